"""Transfer to another municipality (*overdracht bij verhuizing*).

A family moves: the coordinator asks to transfer the case to the Knooppunt of the municipality
it moved to (``TransferRequested``), with the family's consent or, when the case was escalated
under the Meldcode, on that basis. The receiving Knooppunt accepts (``CaseTransferred``: the
case goes on there with its whole history, where it stood) or refuses (``TransferRefused``:
the case stays). Until it is accepted the receiving coordinators see no more than the request.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict

from domain import guards
from domain.consent_record import ConsentMethod
from domain.errors import ConsentRequiredError, IllegalTransitionError, InvalidValueError
from domain.household import ConsentGiver
from domain.lifecycle import Action, State, allowed_actions
from domain.redaction import redact_bsns
from domain.values import Actor

Json = dict[str, Any]


class TransferBasis(StrEnum):
    """On what ground the case may move with the family."""

    FAMILY_CONSENT = "family_consent"  # the family agreed to the transfer
    MELDCODE = "meldcode"  # the case was escalated under the Meldcode: no consent needed


class TransferConsent(BaseModel):
    """The family's agreement to the transfer: who gave it, how and on which day."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    given_by: ConsentGiver
    method: ConsentMethod
    given_on: date

    def as_json(self) -> Json:
        return {
            "given_by": self.given_by.value,
            "method": self.method.value,
            "given_on": self.given_on,
        }


def _cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}


class Transferable(Aggregate):
    """A case that can move to another municipality's Knooppunt."""

    if TYPE_CHECKING:  # set by the case's creation event (``domain.referral``)
        municipality: str
        state_value: str
        escalations: list[Json]
        assignee: Json | None  # who owns the case (``domain.assignment``)

    @property
    def transfer_request(self) -> Json | None:
        """``{"to_municipality", "basis", "at"}`` while a transfer waits for an answer."""
        found: Json | None = self.__dict__.get("_transfer_request")
        return found

    @property
    def transfers(self) -> list[Json]:
        """``{"from_municipality", "to_municipality", "at"}`` per accepted transfer."""
        found: list[Json] = self.__dict__.get("_transfers", [])
        return found

    @property
    def former_municipalities(self) -> list[str]:
        """The municipalities the case was transferred from, oldest first."""
        return [t["from_municipality"] for t in self.transfers]

    def request_transfer(
        self,
        *,
        to_municipality: str,
        basis: TransferBasis,
        consent: TransferConsent | None,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Ask the Knooppunt of ``to_municipality`` to take the case over."""
        guards.check_transition(self.id, State(self.state_value), Action.REQUEST_TRANSFER)
        head = f"cannot ask to transfer case {self.id}"
        pending = self.transfer_request
        if pending is not None:
            raise IllegalTransitionError(
                f"{head}: a transfer to {pending['to_municipality']} waits for its answer",
                state=self.state_value,
                allowed=[Action.ACCEPT_TRANSFER.value, Action.REFUSE_TRANSFER.value],
            )
        if to_municipality == self.municipality:
            raise InvalidValueError(f"{head}: the case is in {to_municipality} already")
        if basis is TransferBasis.FAMILY_CONSENT:
            if consent is None:
                raise ConsentRequiredError(
                    f"{head}: record who in the family agreed to the transfer, how and when "
                    "(consent), or transfer on the Meldcode basis of an escalated case",
                    state=self.state_value,
                    allowed=self._allowed(),
                )
            if consent.given_on > at.date():
                raise InvalidValueError(f"{head}: the day consent was given lies in the future")
        elif not self.escalations:
            raise ConsentRequiredError(
                f"{head} on the Meldcode basis: the case was not escalated under the Meldcode; "
                "ask the family's consent to the transfer",
                state=self.state_value,
                allowed=self._allowed(),
            )
        self._transfer_requested(
            to_municipality=to_municipality,
            basis=basis.value,
            consent=consent.as_json() if consent is not None else None,
            **_cause(actor, at, causation_id),
        )

    @event("TransferRequested")
    def _transfer_requested(
        self,
        to_municipality: str,
        basis: str,
        consent: Json | None,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self._transfer_request: Json | None = {
            "to_municipality": to_municipality,
            "basis": basis,
            "at": occurred_at,
        }

    def accept_transfer(self, *, actor: Actor, at: datetime, causation_id: str) -> str:
        """The receiving Knooppunt takes the case over; returns the municipality it left."""
        pending = self._pending(Action.ACCEPT_TRANSFER)
        before = self.municipality
        self._case_transferred(
            from_municipality=before,
            to_municipality=pending["to_municipality"],
            **_cause(actor, at, causation_id),
        )
        return before

    @event("CaseTransferred")
    def _case_transferred(
        self,
        from_municipality: str,
        to_municipality: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.municipality = to_municipality
        self._transfer_request = None
        self.assignee = None  # owned by a coordinator of the old municipality: no longer
        self._transfers = [
            *self.transfers,
            {
                "from_municipality": from_municipality,
                "to_municipality": to_municipality,
                "at": occurred_at,
            },
        ]

    def refuse_transfer(
        self, *, reason: str, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """The receiving Knooppunt declines: the case stays where it is."""
        pending = self._pending(Action.REFUSE_TRANSFER)
        self._transfer_refused(
            to_municipality=pending["to_municipality"],
            reason=redact_bsns(reason.strip()),
            **_cause(actor, at, causation_id),
        )

    @event("TransferRefused")
    def _transfer_refused(
        self,
        to_municipality: str,
        reason: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self._transfer_request = None

    def _pending(self, action: Action) -> Json:
        guards.check_transition(self.id, State(self.state_value), action)
        pending = self.transfer_request
        if pending is None:
            raise IllegalTransitionError(
                f"cannot {guards.PHRASES[action]} for case {self.id}: no transfer was asked for",
                state=self.state_value,
                allowed=self._allowed(),
            )
        return pending

    def _allowed(self) -> list[str]:
        return [a.value for a in allowed_actions(State(self.state_value))]
