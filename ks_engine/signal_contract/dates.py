"""Which dates of a signal are checked against today: those that cannot lie in the future,
and the due dates of expected children (``ks_engine.signal_rules.check_dates`` judges them)."""

from __future__ import annotations

import datetime as dt

from domain.values import Phase
from ks_engine.signal_contract.models import SignalData


def past_dates(d: SignalData) -> list[tuple[str, dt.date, str]]:
    """The signal's dates that cannot lie in the future, with their paths."""
    found = [("data.person.birth_date", d.person.birth_date, "the date of birth")]
    if d.phase.phase is Phase.POSTNATAL:
        found.append(("data.phase.date", d.phase.date, "the child's birth date"))
    if d.household is not None:
        if d.household.co_parent is not None:
            found.append(
                (
                    "data.household.co_parent.birth_date",
                    d.household.co_parent.birth_date,
                    "the co-parent's date of birth",
                )
            )
        for n, child in enumerate(d.household.children):
            if child.person is not None:
                path = f"data.household.children.{n}.person.birth_date"
                found.append((path, child.person.birth_date, "the child's birth date"))
    if d.referral_consent is not None:
        found.append(
            ("data.referral_consent.given_on", d.referral_consent.given_on, "the consent's date")
        )
    return [(path, day, what) for path, day, what in found if day is not None]


def due_dates(d: SignalData) -> list[tuple[str, dt.date]]:
    """The due dates of expected children, with their paths."""
    found = []
    if d.phase.phase is Phase.PREGNANCY and d.phase.date is not None:
        found.append(("data.phase.date", d.phase.date))
    for n, child in enumerate(d.household.children if d.household else []):
        if child.due_date is not None:
            found.append((f"data.household.children.{n}.due_date", child.due_date))
    return found
