"""Lookups that find a municipality's cases, open or closed, without a clear value.

An entry's id is derived from the municipality, the kind of lookup and its key: a blind key of
a name part and birth date (``name``, ``domain.blind_index``). The entry lists the cases it
finds. A search in another municipality derives other ids, so it can never find, nor hint at, a
case outside its remit. (Stores of earlier versions also hold ``number`` entries; the short case
number is now the start of the case's id, asked of the store itself.)
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("4f1e2c8a-9b3d-4e6f-8a1c-2d3e4f5a6b7c")
NUMBER_LENGTH = 8  # the dashboard shows the first eight characters of a case's id


def case_number(case_id: UUID) -> str:
    """The short case number a coordinator reads on the dashboard."""
    return str(case_id)[:NUMBER_LENGTH]


def id_range(number: str) -> tuple[UUID, UUID]:
    """The lowest and the highest id that begin with ``number`` (at most 32 hex digits)."""
    return UUID(number.ljust(32, "0")), UUID(number.ljust(32, "f"))


def lookup_id(kind: str, municipality: str, key: str) -> UUID:
    """Deterministic id of a lookup entry."""
    return uuid5(_NAMESPACE, f"{kind}:{municipality}:{key}")


class CaseLookup(Aggregate):
    """The cases one lookup key finds in one municipality."""

    @staticmethod
    def create_id(kind: str, municipality: str, key: str) -> UUID:
        return lookup_id(kind, municipality, key)

    @classmethod
    def open(cls, kind: str, municipality: str, key: str) -> CaseLookup:
        """A new entry for ``key``; its id is derived from the key, its event does not carry
        the key itself (a blind name key would tie the entry to a person)."""
        return cls._create(
            cls.Created,
            id=lookup_id(kind, municipality, key),
            kind=kind,
            municipality=municipality,
            key="",
        )

    @event("Created")
    def __init__(self, kind: str, municipality: str, key: str) -> None:
        self.case_ids: list[UUID | str] = []  # a name lookup's are sealed (see PersonIndex)

    @event("CaseAdded")
    def add(self, case_id: UUID | str) -> None:
        """The key finds this case from now on."""
        if case_id not in self.case_ids:
            self.case_ids.append(case_id)

    @event("CaseRemoved")
    def remove(self, case_id: UUID | str) -> None:
        """The key no longer finds this case (its personal details were erased)."""
        if case_id in self.case_ids:
            self.case_ids.remove(case_id)
