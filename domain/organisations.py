"""Organisations by name (*organisaties*): which work in a municipality, and what each is called.

Consent, escalations and discussions name organisations by id (a signal's source, a menukaart
provider's id); people read names. The region's partners and the menukaart's providers
together say which organisations work in a municipality and what they are called. An id that
neither knows is shown as it is, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.catalogue import Catalogue
from domain.region import Region


def names(catalogue: Catalogue, region: Region | None) -> dict[str, str]:
    """Every known organisation's name by its id (the region's partners first)."""
    found = {p.id: p.name for p in region.partners} if region else {}
    for org in catalogue.organizations:
        found.setdefault(org.id, org.name)
    return found


def providers_in(municipality: str, catalogue: Catalogue, region: Region | None) -> list[str]:
    """The ids of the providers with an offer available in the municipality."""
    listed = region.offers_in(municipality) if region else None
    ids: dict[str, None] = {}
    for offer in catalogue.services:
        if municipality in offer.service_area and (listed is None or offer.id in listed):
            ids.setdefault(offer.organization_id)
    return list(ids)


def working_in(
    municipality: str,
    catalogue: Catalogue,
    region: Region | None,
    also: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """The organisations that work in the municipality as (id, name), by name: the region's
    partners there and the providers of offers available there, plus ``also`` (e.g. the
    case's reporters)."""
    known = names(catalogue, region)
    ids = dict.fromkeys(also)
    ids.update(dict.fromkeys(p.id for p in region.partners_in(municipality)) if region else {})
    ids.update(dict.fromkeys(providers_in(municipality, catalogue, region)))
    return sorted(((i, known.get(i, i)) for i in ids), key=lambda pair: pair[1].casefold())
