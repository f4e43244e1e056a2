"""Open Referral's HSDS JSON schemas, vendored unchanged, and checking records against them.

The schema files in ``ks_engine/data/hsds/`` are Open Referral's own, byte for byte (source
path, commit and licence in that folder's README.md and LICENSE). They refer to each other by
relative ``$ref`` (``"attribute.json"``), resolved here in a local registry under each file's
``$id``; nothing is fetched over the network. A ``$ref`` to an HSDS table ks-engine does not
vendor (phone, schedule, location, ...) resolves to a schema that refuses any value, so a
document that fills such a field is refused by name instead of its content being dropped.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

UNKEPT = "ks-engine: an HSDS table the menukaart does not keep: "


class HsdsSchemaError(Exception):
    """The vendored HSDS schema files are missing or do not load."""


def _unkept(uri: str) -> Resource[Any]:
    """A schema refusing any value, for a ``$ref`` to a table that is not vendored."""
    table = uri.rsplit("/", 1)[-1].removesuffix(".json")
    return DRAFT202012.create_resource({"$comment": UNKEPT + table, "not": {}})


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """The vendored schema files by table name (``service``, ``organization``, ...)."""
    folder = resources.files("ks_engine").joinpath("data/hsds")
    found = {
        f.name.removesuffix(".json"): json.loads(f.read_text("utf-8"))
        for f in folder.iterdir()
        if f.name.endswith(".json")
    }
    if not {"service", "organization"} <= set(found):
        raise HsdsSchemaError(f"the HSDS schemas in {folder} are incomplete: {sorted(found)}")
    return found


@cache
def _registry() -> Registry[Any]:
    resources_ = ((s["$id"], DRAFT202012.create_resource(s)) for s in schemas().values())
    registry: Registry[Any] = Registry(retrieve=_unkept)  # type: ignore[call-arg]
    return registry.with_resources(resources_)


@cache
def validator(table: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for one HSDS table, resolving ``$ref`` locally."""
    return Draft202012Validator(schemas()[table], registry=_registry())


def problems(table: str, record: Any) -> list[str]:
    """Schema errors of one record, each naming the record and the field."""
    name = f"{table} '{record.get('id', '?')}'" if isinstance(record, dict) else table
    found: dict[tuple[str, str], None] = {}
    try:
        for e in validator(table).iter_errors(record):
            path = [str(p) for p in e.path]
            comment = e.schema.get("$comment", "") if isinstance(e.schema, dict) else ""
            if e.validator == "not" and comment.startswith(UNKEPT):
                while path and path[-1].isdigit():
                    path.pop()  # name the field, not each item of its list
                table_name = comment.removeprefix(UNKEPT)
                message = f"the menukaart does not keep HSDS {table_name} records; leave it out"
            else:
                message = e.message
            found.setdefault((".".join(path) or "(record)", message), None)
    except Unresolvable as exc:
        return [f"{name}: uses a part of HSDS the menukaart does not keep ({exc})"]
    return [f"{name}: {field}: {message}" for field, message in sorted(found)]


def document_problems(document: dict[str, Any]) -> list[str]:
    """Schema errors of every organization and service of an HSDS document."""
    found: list[str] = []
    for o in document["organizations"]:
        found += problems("organization", o)
    for s in document["services"]:
        found += problems("service", s)
    return found
