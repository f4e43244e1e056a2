"""The menukaart as HSDS 3.0 JSON (Open Referral's Human Services Data Specification).

Export writes, and import reads, one document::

    {"hsds_version": "3.0", "catalogue_version": "7",
     "organizations": [HSDS organization, ...], "services": [HSDS service, ...]}

Each organization and service is validated against the HSDS schemas vendored in
``ks_engine/data/hsds/`` (an extract; licence in its LICENSE.md). A service's municipalities are
its ``service_areas`` (``name``: the CBS code); its phases, needs, risk factors and Positieve
Gezondheid dimensions are ``attributes`` whose ``taxonomy_term`` belongs to the taxonomy
``ks-phase``, ``ks-need``, ``ks-risk-factor`` or ``ks-dimension`` with the engine's code.
Errors name the record and the field, e.g. ``service 'voorzorg': status: 'open' is not one of``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from domain.catalogue import Catalogue
from domain.values import Dimension, Need, Phase, RiskFactor

HSDS_VERSION = "3.0"
SCHEMAS = ("service", "organization", "service_area", "attribute", "taxonomy_term")
TAXONOMIES: dict[str, tuple[str, type[Phase | Need | RiskFactor | Dimension]]] = {
    "phases": ("ks-phase", Phase),
    "needs": ("ks-need", Need),
    "risk_factors": ("ks-risk-factor", RiskFactor),
    "dimensions": ("ks-dimension", Dimension),
}
Json = dict[str, Any]


class HsdsError(Exception):
    """An HSDS document is not valid, or does not fit the menukaart."""


@cache
def _validators() -> dict[str, Draft202012Validator]:
    folder = resources.files("ks_engine").joinpath("data/hsds")
    loaded = {n: json.loads(folder.joinpath(f"{n}.json").read_text("utf-8")) for n in SCHEMAS}
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in loaded.values()
    )
    return {n: Draft202012Validator(s, registry=registry) for n, s in loaded.items()}


def _check(kind: str, record: Any) -> list[str]:
    """Schema errors of one record, each naming the record and the field."""
    name = f"{kind} '{record.get('id', '?')}'" if isinstance(record, dict) else kind
    try:
        errors = sorted(_validators()[kind].iter_errors(record), key=lambda e: list(e.path))
        found = [(".".join(str(p) for p in e.path) or "(record)", e.message) for e in errors]
    except Unresolvable as exc:
        return [f"{name}: uses a part of HSDS the menukaart does not keep ({exc.ref})"]
    return [f"{name}: {field}: {message}" for field, message in found]


def _term(taxonomy: str, code: str, label: str, service_id: str) -> Json:
    term_id = f"{taxonomy}:{code}"
    return {
        "id": f"{service_id}:{term_id}",
        "link_id": service_id,
        "link_entity": "service",
        "link_type": taxonomy,
        "taxonomy_term_id": term_id,
        "taxonomy_term": {
            "id": term_id,
            "code": code,
            "name": label,
            "description": label,
            "taxonomy_id": taxonomy,
        },
    }


def to_hsds(catalogue: Catalogue) -> Json:
    """The menukaart as one HSDS document (see the module docstring)."""
    services = []
    for s in catalogue.services:
        attributes = [
            _term(TAXONOMIES[field][0], item.value, item.label, s.id)
            for field in TAXONOMIES
            for item in getattr(s, field)
        ]
        services.append(
            {
                "id": s.id,
                "organization_id": s.organization_id,
                "name": s.name,
                "description": s.description,
                "eligibility_description": s.eligibility,
                "status": "active",
                "service_areas": [
                    {"id": f"{s.id}:{code}", "service_id": s.id, "name": code}
                    for code in s.service_area
                ],
                "attributes": attributes,
            }
        )
    organizations = [
        {"id": o.id, "name": o.name, "description": o.name} for o in catalogue.organizations
    ]
    return {
        "hsds_version": HSDS_VERSION,
        "catalogue_version": catalogue.version,
        "organizations": organizations,
        "services": services,
    }


def from_hsds(document: Any) -> Catalogue:
    """The menukaart in an HSDS document; HsdsError listing every record and field at fault."""
    if not isinstance(document, dict):
        raise HsdsError("the HSDS document must be a JSON object with organizations and services")
    problems: list[str] = []
    for key in ("organizations", "services"):
        if not isinstance(document.get(key), list):
            problems.append(f"{key}: a list is required")
    if problems:
        raise HsdsError("; ".join(problems))
    for o in document["organizations"]:
        problems += _check("organization", o)
    for s in document["services"]:
        problems += _check("service", s)
    if problems:
        raise HsdsError("the HSDS document is not valid: " + "; ".join(problems))
    services = []
    for s in document["services"]:
        record: Json = {
            "id": s["id"],
            "name": s["name"],
            "organization_id": s.get("organization_id", ""),
            "description": s.get("description", ""),
            "eligibility": s.get("eligibility_description", ""),
            "service_area": [a.get("name", "") for a in s.get("service_areas", [])],
        }
        for field, (taxonomy, _) in TAXONOMIES.items():
            record[field] = [
                a["taxonomy_term"].get("code", "")
                for a in s.get("attributes", [])
                if a.get("taxonomy_term", {}).get("taxonomy_id") == taxonomy
            ]
        if s.get("status", "active") == "active":
            services.append(record)
    organizations = [{"id": o["id"], "name": o["name"]} for o in document["organizations"]]
    try:
        return Catalogue.model_validate(
            {
                "version": str(document.get("catalogue_version", "import")),
                "organizations": organizations,
                "services": services,
            }
        )
    except ValidationError as exc:
        reasons: list[str] = []
        renamed = {"service_area": "service_areas", "eligibility": "eligibility_description"}
        errors = exc.errors(include_input=False)
        for e in errors:
            loc = e["loc"]
            if e["type"] == "too_short" and any(
                o is not e and o["loc"][: len(loc)] == loc for o in errors
            ):
                continue  # the list is short because its items were refused: those are named
            kind, index = (str(loc[0]), loc[1]) if len(loc) >= 2 else ("", None)
            where = ".".join(str(p) for p in loc) or "document"
            if kind in ("services", "organizations") and isinstance(index, int):
                records = services if kind == "services" else organizations
                attribute = ".".join(renamed.get(str(p), str(p)) for p in loc[2:3])
                where = f"{kind[:-1]} '{records[index]['id']}': {attribute or '(record)'}"
            reasons.append(f"{where}: {e['msg'].removeprefix('Value error, ')}")
        raise HsdsError(
            "the HSDS document does not fit the menukaart: " + "; ".join(reasons)
        ) from None
