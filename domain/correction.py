"""Correction (*rectificatie*, AVG art. 16): a signal about the wrong person is retracted, and
the family's personal details are corrected.

A retracted signal (``SignalRetracted``) leaves the case's signals; the pseudonyms only it
named are no longer members of the household, so the application tells their matching-index
entries to forget the case and a later signal about that person does not join it. Corrected
details (``PersonalDetailsCorrected``) are sealed anew under a fresh data key; the keys the
old details were sealed under are destroyed, so the old version can never be read again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from domain import guards
from domain.errors import InvalidValueError
from domain.lifecycle import Action, State
from domain.values import Actor

Json = dict[str, Any]
_URGENCY_ORDER = ("urgent", "soon", "routine")


class RetractionReason(StrEnum):
    """Why a signal is retracted."""

    WRONG_PERSON = "wrong_person"  # about someone else (a mistyped or mixed-up BSN)
    SENT_IN_ERROR = "sent_in_error"  # the partner sent it by mistake


class CorrectionCause(StrEnum):
    """Why the details were sealed anew."""

    CORRECTION = "correction"  # the family (or the privacy officer) corrected a detail
    RETRACTION = "retraction"  # the details a retracted signal brought were left out


def named_by(record: Json, fallback_person: str | None = None) -> set[str]:
    """The pseudonyms a signal record names: its person, then its household members.

    Records from before ``person`` was kept name their person only through
    ``fallback_person`` (the case's own parent, for the case's first signal)."""
    person = record.get("person") or fallback_person
    named = {str(m["pseudonym"]) for m in record.get("household", []) if m.get("pseudonym")}
    return named | ({str(person)} if person else set())


def remaining_codes(signals: list[Json]) -> tuple[list[str], str]:
    """The risk factors (first-seen order) and most urgent urgency of ``signals``."""
    seen: dict[str, None] = {}
    for s in signals:
        seen.update(dict.fromkeys(s["risk_factors"]))
    urgencies = [str(s["urgency"]) for s in signals] or ["routine"]
    return list(seen), min(urgencies, key=_URGENCY_ORDER.index)


class Correctable(Aggregate):
    """A case whose signals can be retracted and whose personal details can be corrected."""

    if TYPE_CHECKING:  # set by the case's creation event (``domain.referral``)
        person_pseudonym: str
        signals: list[Json]
        sealed_personal: list[Json]
        personal_erased: Json | None
        state_value: str

        def refuse_if_erased(self, what: str) -> None: ...

    @property
    def unlinked(self) -> list[str]:
        """Pseudonyms of people a retracted signal wrongly linked to the case."""
        found: list[str] = self.__dict__.get("_unlinked", [])
        return found

    @property
    def retractions(self) -> list[Json]:
        """``{"signal_number", "reason", "at"}`` per retracted signal, oldest first."""
        found: list[Json] = self.__dict__.get("_retractions", [])
        return found

    def _named(self, index: int) -> set[str]:
        fallback = self.person_pseudonym if index == 0 and not self.retractions else None
        return named_by(self.signals[index], fallback)

    def unlinked_by_retracting(self, number: int) -> list[str]:
        """The pseudonyms that only signal ``number`` (1-based) names: what retracting unlinks."""
        self._check_signal_number(number)
        others: set[str] = set()
        for i in range(len(self.signals)):
            if i != number - 1:
                others |= self._named(i)
        others |= {str(b["pseudonym"]) for b in self.__dict__.get("births", [])}
        for merged in self.__dict__.get("merged", []):
            others |= {str(m["pseudonym"]) for m in merged["members"] if m.get("pseudonym")}
        return sorted(self._named(number - 1) - others - set(self.unlinked))

    def _check_signal_number(self, number: int) -> None:
        if not 1 <= number <= len(self.signals):
            raise InvalidValueError(
                f"case {self.id} has no signal {number}: it holds {len(self.signals)} "
                "signal(s), numbered from 1 in the order of the case's signals"
            )

    def retract_signal(
        self,
        *,
        number: int,
        reason: RetractionReason,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> list[str]:
        """Retract signal ``number`` (1-based); returns the pseudonyms it alone linked."""
        guards.check_transition(self.id, State(self.state_value), Action.RETRACT_SIGNAL)
        unlinked = self.unlinked_by_retracting(number)
        rest = [s for i, s in enumerate(self.signals) if i != number - 1]
        risk_factors, urgency = remaining_codes(rest)
        self._signal_retracted(
            signal_number=number,
            reason=reason.value,
            risk_factors=risk_factors,
            urgency=urgency,
            remaining=len(rest),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )
        return unlinked

    @event("SignalRetracted")
    def _signal_retracted(
        self,
        signal_number: int,
        reason: str,
        risk_factors: list[str],
        urgency: str,
        remaining: int,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        gone = self.unlinked_by_retracting(signal_number)  # from the state: same on replay
        self._unlinked = [*self.unlinked, *gone]
        self._retractions = [
            *self.retractions,
            {"signal_number": signal_number, "reason": reason, "at": occurred_at},
        ]
        self.signals = [s for i, s in enumerate(self.signals) if i != signal_number - 1]

    def sealed_from(self, signal_key: str) -> list[Json]:
        """The sealed entries that came with the signal ``signal_key`` (if they say so)."""
        return [p for p in self.sealed_personal if p.get("signal_key") == signal_key]

    def correct_personal_details(
        self,
        *,
        sealed: Json | None,
        fields: list[str],
        cause: CorrectionCause,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> list[str]:
        """Replace the sealed details by ``sealed`` (None: nothing left); returns the ids of
        the data keys the old details were sealed under, for the application to destroy."""
        guards.check_transition(self.id, State(self.state_value), Action.CORRECT_PERSONAL_DETAILS)
        self.refuse_if_erased("correct the personal details")
        if not fields:
            raise InvalidValueError(
                f"cannot correct the personal details of case {self.id}: name at least one "
                "field to change or remove"
            )
        key_ids = sorted({str(p["key_id"]) for p in self.sealed_personal})
        self._personal_details_corrected(
            personal=dict(sealed) if sealed else {},
            fields=sorted(set(fields)),
            cause=cause.value,
            key_ids=key_ids,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )
        return key_ids

    @event("PersonalDetailsCorrected")
    def _personal_details_corrected(
        self,
        personal: Json,
        fields: list[str],
        cause: str,
        key_ids: list[str],
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.sealed_personal = [dict(personal)] if personal else []
