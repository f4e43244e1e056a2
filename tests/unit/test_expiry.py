"""Inactivity expiry: flagged two months before, closed as expired after 24 months."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.expiry import ExpiryRule, add_months
from domain.values import Outcome
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.privacy.expiry import due_for_expiry, expire_inactive
from ks_engine.settings import Settings
from projections.work_queue import WorkItem
from projections.work_queue_store import WorkQueueEntry
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, BSN_B, coordinator_ctx, make_signal, partner_ctx


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield built
    built.close()


def _signal(engine: Engine, bsn: str) -> UUID:
    sig = make_signal(bsn)
    outcome = engine.referrals.receive_signal(sig, partner_ctx(sig))
    assert outcome.case_id is not None
    return outcome.case_id


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 120))
def test_adding_months_lands_in_the_right_month_and_never_past_its_end(day: date, n: int) -> None:
    moved = add_months(day, n)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == n
    assert moved.day <= day.day
    assert moved.day == day.day or (moved + timedelta(days=1)).day == 1


def test_a_case_is_flagged_two_months_before_it_expires() -> None:
    rule = ExpiryRule()
    last = date(2026, 3, 31)
    assert rule.expires_on(last) == date(2028, 3, 31)
    assert not rule.is_expiring(last, date(2028, 1, 30))
    assert rule.is_expiring(last, date(2028, 1, 31))
    assert not rule.has_expired(last, date(2028, 3, 30))
    assert rule.has_expired(last, date(2028, 3, 31))


def test_the_work_queue_entry_carries_the_expiry_flag(clock: FixedClock) -> None:
    item = WorkItem.model_validate(
        {
            "case_id": "c",
            "municipality": "GM0928",
            "state": "signalled",
            "signalled_at": clock(),
            "urgency": "soon",
            "risk_factors": [],
            "signal_count": 1,
            "milestones": {},
            "last_activity_at": clock(),
            "version": 1,
        }
    )
    soon = WorkQueueEntry.from_doc(
        item.model_dump_json(), add_months(clock().date(), 22), ExpiryRule()
    )
    assert soon.expiring
    assert soon.expires_on == add_months(clock().date(), 24)
    later = WorkQueueEntry.from_doc(
        item.model_dump_json(), add_months(clock().date(), 21), ExpiryRule()
    )
    assert not later.expiring


def test_expiry_closes_inactive_cases_as_expired_and_leaves_active_ones(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    # Given a case signalled now, and another that will see activity later
    quiet, busy = _signal(engine, BSN_A), _signal(engine, BSN_B)
    clock.advance(days=400)
    app.request_consent(c.RequestConsent(case_id=busy), coordinator_ctx())
    # When 24 months have passed since the quiet case's last activity
    clock.now = clock.now.replace(year=clock.now.year + 1, month=11, day=2)
    assert [d.case_id for d in due_for_expiry(app, ExpiryRule())] == [quiet]
    # A dry run changes nothing
    assert [d.case_id for d in expire_inactive(app, ExpiryRule(), apply=False)] == [quiet]
    assert app.get_case(quiet).is_open
    # Then expiry closes it with the result expired, and only it
    closed = expire_inactive(app, ExpiryRule())
    assert [d.case_id for d in closed] == [quiet]
    case = app.get_case(quiet)
    assert not case.is_open
    assert case.outcome is not None
    assert case.outcome["code"] == Outcome.EXPIRED
    assert app.get_case(busy).is_open
    # And running it again closes nothing more
    assert expire_inactive(app, ExpiryRule()) == []


def test_a_configured_period_is_followed(engine: Engine, clock: FixedClock) -> None:
    case_id = _signal(engine, BSN_A)
    clock.advance(days=190)
    assert [d.case_id for d in due_for_expiry(engine.referrals, ExpiryRule(months=6))] == [case_id]
    assert due_for_expiry(engine.referrals, ExpiryRule(months=7)) == []
