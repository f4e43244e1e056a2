"""Retention (*bewaartermijn*): which closed cases have kept personal details too long."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from domain.referral import Referral
from ks_engine.application import Referrals
from ks_engine.audit.replay import case_ids


def years_before(moment: datetime, years: int) -> date:
    """The calendar date ``years`` before ``moment`` (29 February falls back to the 28th)."""
    day = moment.date()
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def due_for_erasure(app: Referrals, *, years: int, now: datetime) -> list[tuple[UUID, date]]:
    """Cases closed before the retention period ending ``now`` whose details are not erased
    yet, with the day each was closed, oldest case first."""
    limit = years_before(now, years)
    due: list[tuple[UUID, date]] = []
    for case_id in case_ids(app):
        case = app.get_case(case_id)
        closed_at = case.milestones.get("closed") if isinstance(case, Referral) else None
        if closed_at is None or case.personal_erased is not None:
            continue
        if not case.sealed_personal:
            continue  # nothing personal to erase
        if closed_at.date() < limit:
            due.append((case_id, closed_at.date()))
    return due
