"""The menukaart as HSDS 3.0 JSON (Open Referral's Human Services Data Specification).

Export writes, and import reads, one document::

    {"hsds_version": "3.0", "catalogue_version": "7",
     "organizations": [HSDS organization, ...], "services": [HSDS service, ...]}

Each organization and service, read or written, is validated against Open Referral's own HSDS
JSON schemas, vendored unchanged in ``ks_engine/data/hsds/`` (see ``ks_engine.hsds_schema``;
source, commit and licence in that folder). A service's municipalities are
its ``service_areas`` (``name``: the CBS code); its phases, needs, risk factors and Positieve
Gezondheid dimensions are ``attributes`` whose ``taxonomy_term`` belongs to the taxonomy
``ks-phase``, ``ks-need``, ``ks-risk-factor`` or ``ks-dimension`` with the engine's code.
Errors name the record and the field, e.g. ``service 'voorzorg': status: 'open' is not one of``;
HSDS tables the menukaart does not keep (phones, schedules, locations, ...) are refused by name.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.catalogue import Catalogue
from domain.values import Dimension, Need, Phase, RiskFactor
from ks_engine.hsds_schema import document_problems

HSDS_VERSION = "3.0"
TAXONOMIES: dict[str, tuple[str, type[Phase | Need | RiskFactor | Dimension]]] = {
    "phases": ("ks-phase", Phase),
    "needs": ("ks-need", Need),
    "risk_factors": ("ks-risk-factor", RiskFactor),
    "dimensions": ("ks-dimension", Dimension),
}
Json = dict[str, Any]


class HsdsError(Exception):
    """An HSDS document is not valid, or does not fit the menukaart."""


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


def export_hsds(catalogue: Catalogue) -> Json:
    """The menukaart as an HSDS document checked against the schemas; HsdsError if it is not."""
    document = to_hsds(catalogue)
    problems = document_problems(document)
    if problems:
        raise HsdsError("the menukaart does not make a valid HSDS document: " + "; ".join(problems))
    return document


def to_hsds(catalogue: Catalogue) -> Json:
    """The menukaart as one HSDS document (see the module docstring), unchecked."""
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
    problems = document_problems(document)
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
