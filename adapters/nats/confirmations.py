"""Providers' confirmations that support started, taken from KS_SIGNALS by the intake.

Each is applied alone (they are few) through ``Referrals.confirm_support_started``, which
stores the case's event and the message's idempotency record in one transaction: a message
delivered again is recognised and changes nothing. A refusal by the case becomes a rejection
with its reason; an unavailable store sends the message back for a later delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, TypeVar

import structlog
from eventsourcing.persistence import PersistenceError

from domain.errors import (
    CaseNotFoundError,
    DomainError,
    NotInConsentScopeError,
    VersionConflictError,
)
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.signal_intake import SignalOutcome
from ks_engine.signal_rejection import Rejection, RejectionCode
from ks_engine.support_start_contract import ParsedSupportStart

log = structlog.get_logger("ks.intake")


class Confirmation(Protocol):
    """A delivered confirmation in the intake's batch, as far as applying it goes."""

    support: ParsedSupportStart | None
    rejection: Rejection | None
    outcome: SignalOutcome | None

    @property
    def seq(self) -> int: ...


Item = TypeVar("Item", bound=Confirmation)


class _Engine(Protocol):
    @property
    def referrals(self) -> Referrals: ...


class ConfirmingIntake(Protocol[Item]):
    """What applying confirmations needs of the intake (passed in: this module never imports it)."""

    @property
    def engine(self) -> _Engine: ...

    async def retry_later(self, items: list[Item], reason: str) -> None: ...


def rejection_for(refusal: DomainError) -> Rejection:
    """The code and reason a provider reads for a confirmation its case refused."""
    if isinstance(refusal, CaseNotFoundError):
        return Rejection(
            RejectionCode.UNKNOWN_CASE,
            f"data.case_id: {refusal}; quote the case id from your signal's receipt or feedback",
            (("data.case_id", "names no case of this municipality"),),
        )
    if isinstance(refusal, NotInConsentScopeError):
        return Rejection(RejectionCode.NOT_IN_CONSENT_SCOPE, str(refusal))
    return Rejection(RejectionCode.REFUSED_BY_CASE, str(refusal))


async def confirm_all(intake: ConfirmingIntake[Item], items: Sequence[Item]) -> list[Item]:
    """Apply each confirmation; the items whose outcome was decided (accepted or refused)."""
    decided: list[Item] = []
    referrals = intake.engine.referrals
    for item in items:
        parsed = item.support
        assert parsed is not None
        event, data = parsed.event, parsed.data
        cmd = c.StartSupport(
            case_id=data.case_id, on=data.on, lead_professional=data.lead_professional
        )
        ctx = c.Context(
            actor=Actor(organisation=event.source, role=ActorRole.PARTNER),
            causation_id=event.signal_key,
        )
        try:
            outcome = await asyncio.to_thread(
                referrals.confirm_support_started, event.signal_key, data.municipality, cmd, ctx
            )
        except (PersistenceError, VersionConflictError) as exc:
            await intake.retry_later([item], f"the case could not be stored ({type(exc).__name__})")
            continue
        except Exception as exc:  # one confirmation that cannot be stored stops no other
            log.error("support_started.not_stored", stream_seq=item.seq, error=type(exc).__name__)
            item.rejection = Rejection(
                RejectionCode.PROCESSING_FAILED,
                "the confirmation could not be stored; it is kept with the dead letters for the "
                "Knooppunt's administrator",
            )
            decided.append(item)
            continue
        item.outcome = outcome
        if outcome.refusal is not None:
            item.rejection = rejection_for(outcome.refusal)
        decided.append(item)
    return decided
