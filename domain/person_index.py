"""Matching index: which open case a person has in a municipality (*matching*).

The index is an aggregate whose id is derived from the municipality and the person's
pseudonym, so two concurrent first signals about the same person both try to create the
same aggregate at version 1: the store accepts one and refuses the other.

Its events name cases by reference (``CaseRef``): the application seals each case id under a
key of the entry's own (``ks_engine.case_links.IndexRefs``), destroyed when the case is
erased, so that the person's index no longer leads to the case. Entries stored before that
hold plain case ids.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

CaseRef = UUID | str  # a case id, sealed by the application (or in clear in older entries)

_NAMESPACE = UUID("0b7c4a52-6f2e-4a57-9a53-5d6f0c1e8b21")


@lru_cache(maxsize=4096)  # the intake derives it several times per signal
def person_index_id(municipality: str, person_pseudonym: str) -> UUID:
    """Deterministic id of the index entry of one person in one municipality."""
    return uuid5(_NAMESPACE, f"person:{municipality}:{person_pseudonym}")


class PersonIndex(Aggregate):
    """The open case of one person in one municipality, if any."""

    if TYPE_CHECKING:
        last_closed_case_id: CaseRef | None  # shown with a new case as the earlier one
    else:
        last_closed_case_id = None

    @staticmethod
    def create_id(municipality: str, person_pseudonym: str) -> UUID:
        return person_index_id(municipality, person_pseudonym)

    @classmethod
    def open(cls, municipality: str, person_pseudonym: str, case_id: CaseRef) -> PersonIndex:
        """The person's first entry in the municipality, pointing at ``case_id``. Its id is
        derived from the pseudonym; the event does not carry the pseudonym itself."""
        return cls._create(
            cls.Opened,  # type: ignore[attr-defined]
            id=person_index_id(municipality, person_pseudonym),
            municipality=municipality,
            person_pseudonym="",
            case_id=case_id,
        )

    @event("Opened")
    def __init__(self, municipality: str, person_pseudonym: str, case_id: CaseRef) -> None:
        self.open_case_id: CaseRef | None = case_id
        self.case_ids: list[CaseRef] = [case_id]  # every case of the person here, for search

    @event("CaseOpened")
    def case_opened(self, case_id: CaseRef) -> None:
        """A new case was opened for this person (or the person joined a case)."""
        self.open_case_id = case_id
        if case_id not in self.case_ids:
            self.case_ids.append(case_id)

    @event("CaseReleased")
    def case_released(self, case_id: CaseRef) -> None:
        """The open case was closed: a next signal opens a new case."""
        if self.open_case_id == case_id:
            self.open_case_id = None
        self.last_closed_case_id = case_id

    @event("PersonForgotten")
    def forget(self, case_id: CaseRef) -> None:
        """The case's personal data was erased: the person no longer matches it, a search no
        longer finds it, and a next signal about them opens a new case."""
        if self.open_case_id == case_id:
            self.open_case_id = None
        if case_id in self.case_ids:
            self.case_ids.remove(case_id)
