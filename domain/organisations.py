"""Organisations by name (*organisaties*): which work in a municipality, and what each is called.

Consent, escalations and discussions name organisations by id (a signal's source, a menukaart
provider's id); people read names. The region's partners and the menukaart's providers
together say which organisations work in a municipality and what they are called; a partner
may be known by more than one id (its signals' source and its menukaart provider id), and is
then offered once, standing for all of them. An id that neither knows is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.catalogue import Catalogue
from domain.region import Region


def names(catalogue: Catalogue, region: Region | None) -> dict[str, str]:
    """Every known organisation's name by each of its ids (the region's partners first)."""
    found = {i: p.name for p in region.partners for i in p.ids} if region else {}
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


def grouped(
    ids: Iterable[str], catalogue: Catalogue, region: Region | None
) -> list[tuple[str, str]]:
    """The organisations ``ids`` name as (their ids joined by spaces, name), each organisation
    once, by name: a form sends the joined ids back, standing for every id of it."""
    known = names(catalogue, region)
    same = {i: p.ids for p in region.partners for i in p.ids} if region else {}
    groups: dict[tuple[str, ...], None] = {}
    for i in ids:
        groups.setdefault(same.get(i, (i,)))
    pairs = [(" ".join(g), known.get(g[0], g[0])) for g in groups]
    return sorted(pairs, key=lambda pair: pair[1].casefold())


def working_in(
    municipality: str,
    catalogue: Catalogue,
    region: Region | None,
    also: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """The organisations that work in the municipality as (ids, name), by name: the region's
    partners there and the providers of offers available there, plus ``also`` (e.g. the
    case's reporters)."""
    ids = list(also)
    ids += [p.id for p in region.partners_in(municipality)] if region else []
    ids += providers_in(municipality, catalogue, region)
    return grouped(ids, catalogue, region)
