"""The model the intake's property tests hold its outcomes to: a partner signal's first
delivery opens its person's case or joins the one open, every later delivery is a duplicate of
it and changes nothing, and each case keeps each of its signals once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ks_engine.application import Referrals
from ks_engine.signal_intake import SignalOutcome
from tests.referral_builders import BSN_A, BSN_B, BSN_C, make_signal, partner_ctx

PEOPLE = (BSN_A, BSN_B, BSN_C)  # key k is always about PEOPLE[k % 3]


def person_of(key: int) -> int:
    return key % len(PEOPLE)


def keyed_batch(keys: Sequence[int]) -> list[tuple[Any, Any]]:
    """A batch of the partner signals with these keys, as the intake hands them on."""
    signals = [make_signal(PEOPLE[person_of(k)], key=f"partner#{k}") for k in keys]
    return [(s, partner_ctx(s)) for s in signals]


class Deliveries:
    """What the model knows: the case of each key's first delivery, each person's open case."""

    def __init__(self) -> None:
        self.first: dict[int, UUID] = {}
        self.open_case: dict[int, UUID] = {}

    def expect(self, keys: Sequence[int], outcomes: Sequence[SignalOutcome]) -> None:
        """The outcomes of delivering ``keys`` in this order, as the model says."""
        for k, outcome in zip(keys, outcomes, strict=True):
            assert outcome.refusal is None
            assert outcome.case_id is not None
            if k in self.first:
                assert outcome.duplicate, f"signal {k} delivered again took effect again"
                assert outcome.case_id == self.first[k]
                continue
            assert not outcome.duplicate, f"signal {k} was new, yet called a duplicate"
            if person_of(k) in self.open_case:
                assert outcome.case_id == self.open_case[person_of(k)]  # one case per person
                assert outcome.matched_existing
            self.first[k] = self.open_case[person_of(k)] = outcome.case_id

    def closed(self, person: int) -> UUID | None:
        """The person's open case, which the model forgets as closed (None: none was open)."""
        return self.open_case.pop(person, None)

    def check_kept_once(self, app: Referrals) -> None:
        """Every case holds each signal delivered to it exactly once."""
        kept = Counter(
            s["signal_key"]
            for case_id in set(self.first.values())
            for s in app.get_case(case_id).signals
        )
        assert kept == Counter(f"partner#{k}" for k in self.first)
