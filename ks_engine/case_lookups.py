"""Keeping the search lookups of cases current: the blind keys of names.

Written in the same transaction as the case they find (``ks_engine.signal_intake``,
``ks_engine.household_service``); erasure removes a case from its name lookups before the
case's data keys are destroyed, while the names can still be read to derive the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.blind_index import NameIndex
from domain.case_lookup import CaseLookup, lookup_id
from domain.values import PersonalDetails
from ks_engine.case_links import IndexRefs

A = TypeVar("A", bound=Aggregate)
Finder = Callable[[type[CaseLookup], UUID, dict[UUID, Aggregate]], CaseLookup | None]


def name_keys(index: NameIndex | None, details: PersonalDetails | None) -> list[str]:
    """Blind keys of every name with a birth date in ``details``: parent and household."""
    if index is None or details is None:
        return []
    named = [(details.name, details.birth_date)]
    named += [(m.name, m.birth_date) for m in details.household]
    keys = [k for name, born in named if name and born for k in index.keys(name, born)]
    return list(dict.fromkeys(keys))


def add_to_lookups(
    find: Finder,
    work: dict[UUID, Aggregate],
    case_id: UUID,
    municipality: str,
    keyed: list[tuple[str, str]],
    refs: IndexRefs,
) -> None:
    """Let each ``(kind, key)`` find the case; entries are read first, created when new.

    A lookup's id is derived from a name, so it names the case sealed (``IndexRefs``). (Stores
    of earlier versions also hold ``number`` entries naming cases in clear; a case number is
    now asked of the store directly, ``ks_engine.case_search``.)"""
    for kind, key in keyed:
        entry_id = lookup_id(kind, municipality, key)
        entry = find(CaseLookup, entry_id, work)
        if entry is None:
            entry = CaseLookup.open(kind, municipality, key)
        elif refs.find(entry.case_ids, case_id):
            continue
        entry.add(refs.new(case_id))
        work[entry.id] = entry
