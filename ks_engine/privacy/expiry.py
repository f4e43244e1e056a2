"""`ks privacy expire` and the engine's daily run: close inactive cases with result expired."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import structlog

from domain.errors import DomainError
from domain.expiry import ExpiryRule
from domain.values import Actor, ActorRole, Outcome
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.audit.replay import case_ids
from ks_engine.supervisor import pause_unless_stopped

log = structlog.get_logger("ks.privacy.expiry")

SYSTEM = Actor(organisation="ks-engine", role=ActorRole.SYSTEM, user_ref="expiry")


@dataclass(frozen=True)
class Expiry:
    """An open case past its inactivity period: its id and the day of its last activity."""

    case_id: UUID
    last_activity: date


def due_for_expiry(app: Referrals, rule: ExpiryRule) -> list[Expiry]:
    """Open cases whose last activity is ``rule.months`` or longer ago, oldest case first."""
    today = app.clock().date()
    due: list[Expiry] = []
    for case_id in case_ids(app):
        case = app.get_case(case_id)
        last = case.last_activity_at.date()
        if case.is_open and rule.has_expired(last, today):
            due.append(Expiry(case_id, last))
    return due


def expire_inactive(app: Referrals, rule: ExpiryRule, *, apply: bool = True) -> list[Expiry]:
    """Close every case due for expiry with result ``expired`` (only report when not
    ``apply``); a case that changed meanwhile (a new signal, a command) is left open."""
    due = due_for_expiry(app, rule)
    if not apply:
        return due
    closed: list[Expiry] = []
    for item in due:
        reason = f"no activity since {item.last_activity.isoformat()} ({rule.months} months)"
        ctx = c.Context(actor=SYSTEM, causation_id=f"expiry:{item.case_id}:{item.last_activity}")
        try:
            app.close_case(
                c.Close(case_id=item.case_id, outcome=Outcome.EXPIRED, reason=reason), ctx
            )
        except DomainError as e:
            log.info("expiry.skipped", case_id=str(item.case_id), error=type(e).__name__)
            continue
        closed.append(item)
    return closed


async def run_expiry(
    app: Referrals, rule: ExpiryRule, stop: asyncio.Event, *, every_seconds: float
) -> None:
    """The engine's expiry component: expire inactive cases now and then every period."""
    while not stop.is_set():
        closed = await asyncio.to_thread(expire_inactive, app, rule)
        log.info("expiry.run", closed=len(closed))
        await pause_unless_stopped(every_seconds, stop)
