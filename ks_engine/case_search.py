"""Finding a case (*zoeken*): by a household member's BSN, by case number, or by family name
and birth date, among the open and closed cases of the caller's municipalities.

A BSN is looked up through its keyed pseudonym, a name through blind keys
(``domain.blind_index``); lookups are per municipality. A case number is the start of the case's
id, asked of the store directly; the cases it names are kept only if they belong to the caller's
municipalities. So outside the remit nothing is found and nothing hints that a case exists
elsewhere.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Recorder

from domain.case_lookup import NUMBER_LENGTH, CaseLookup, lookup_id
from domain.errors import CaseNotFoundError
from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from ks_engine.signal_intake import SignalIntake

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

# The ids of the aggregates whose id begins with a case number, asked of the store.
NumberQuery = Callable[[Recorder, str], "list[UUID] | None"]


class CaseSearch(SignalIntake):
    """Search over the lookups the intake and the commands keep."""

    _numbered: NumberQuery | None = None  # set by the constructor: search by case number

    if TYPE_CHECKING:

        def get_case(self, case_id: UUID) -> Referral: ...

    def search_cases(
        self,
        municipalities: Sequence[str],
        *,
        pseudonym: str | None = None,
        number: str | None = None,
        family_name: str | None = None,
        birth_date: date | None = None,
    ) -> list[Referral]:
        """The cases of ``municipalities`` that the criteria find, newest first."""
        found: list[UUID] = [] if number is None else self._by_number(number)
        for municipality in municipalities:
            if pseudonym is not None:
                index = self._find(PersonIndex, person_index_id(municipality, pseudonym), {})
                found += self.refs.cases(index.case_ids) if index is not None else []
            if family_name is not None and birth_date is not None:
                found += self._by_name(municipality, family_name, birth_date)
        cases = []
        for case_id in dict.fromkeys(found):
            try:
                case = self.get_case(case_id)
            except CaseNotFoundError:
                continue
            if case.municipality in municipalities:
                cases.append(case)
        return sorted(cases, key=lambda c: c.signalled_at, reverse=True)

    def _by_number(self, number: str) -> list[UUID]:
        """The cases a case number (or a full case id) may name, in any municipality: the
        caller keeps those of its own. The number is the start of the case's id, so the store
        is asked for the ids that begin with it; no lookup entry is kept per case."""
        number = number.strip().lower()
        if len(number) > NUMBER_LENGTH:
            try:
                return [UUID(number)]
            except ValueError:
                return []
        if len(number) < NUMBER_LENGTH or not set(number) <= _HEX_DIGITS:
            return []
        found = self._numbered(self.recorder, number) if self._numbered else None
        return found or []

    def _by_name(self, municipality: str, family_name: str, born: date) -> list[UUID]:
        if self.name_index is None:
            return []
        keys = self.name_index.keys(family_name, born)
        if not keys:
            return []
        # Every part of the name searched for must match (an intersection of the lookups).
        matches = [set(self._lookup("name", municipality, k)) for k in keys]
        return sorted(set.intersection(*matches), key=str)

    def _lookup(self, kind: str, municipality: str, key: str) -> list[UUID]:
        work: dict[UUID, Aggregate] = {}
        entry = self._find(CaseLookup, lookup_id(kind, municipality, key), work)
        return self.refs.cases(entry.case_ids) if entry is not None else []


_HEX_DIGITS = set(string.hexdigits.lower())
