"""Feedback to the partners who signalled: each hears exactly what the family's consent allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.feedback import FeedbackStatus, SignalRef, feedback_for, own_signal, signallers
from domain.referral import Referral
from domain.signal_record import signal_record_id
from domain.values import Actor, ActorRole, Outcome
from ks_engine.clock import AMSTERDAM
from tests.referral_builders import (
    BSN_B,
    COORDINATOR,
    DEBTS,
    JGZ,
    close,
    decline,
    discuss,
    give,
    make_signal,
    match,
    request,
    start,
    withdraw,
)

AT = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)
MIDWIFE = "verloskunde-parkstad"  # the builders' signalling partner
Step = Callable[[Referral, datetime], None]
Heard = list[tuple[str, str, str | None]]  # (partner, status, result)


def jgz_signals(case: Referral, at: datetime) -> None:
    """JGZ signals about the same mother: its signal joins the case."""
    signal = make_signal(key=f"{JGZ}#jgz-7")
    case.add_signal(
        signal, actor=Actor(organisation=JGZ, role=ActorRole.PARTNER), at=at, causation_id="s2"
    )


def heard(*steps: Step) -> Heard:
    """Every feedback the case's events give, in order, each judged on the case before it."""
    case = Referral.signal(
        make_signal(key=f"{MIDWIFE}#m-1"),
        actor=Actor(organisation=MIDWIFE, role=ActorRole.PARTNER),
        at=AT,
        causation_id="s1",
    )
    for n, step in enumerate(steps, start=1):
        step(case, AT + timedelta(hours=n))
    before: Any = None
    out: Heard = []
    for event in case.collect_events():
        for f in feedback_for(type(event).__name__, vars(event), before):
            out.append((f.source, f.status.value, f.result))
        before = event.mutate(before)
    return out


def test_before_consent_partners_hear_only_accepted_and_the_answer() -> None:
    assert heard(jgz_signals, request, decline, close) == [
        (MIDWIFE, "accepted", None),
        (JGZ, "accepted", None),
        (MIDWIFE, "consent_declined", None),
        (JGZ, "consent_declined", None),
    ]


def test_after_consent_only_the_partners_it_names_hear_the_next_steps() -> None:
    def give_jgz(case: Referral, at: datetime) -> None:
        give(case, at, scope=(JGZ, DEBTS))

    assert heard(jgz_signals, request, give_jgz, discuss, match, start, close) == [
        (MIDWIFE, "accepted", None),
        (JGZ, "accepted", None),
        (MIDWIFE, "consent_given", None),
        (JGZ, "consent_given", None),
        (JGZ, "discussed", None),
        (JGZ, "support_started", None),
        (JGZ, "closed", Outcome.NO_SUPPORT_NEEDED.value),
    ]


def test_consent_asked_again_is_heard_by_the_partners_the_held_consent_names() -> None:
    def give_midwife(case: Referral, at: datetime) -> None:
        give(case, at, scope=(MIDWIFE,))

    assert heard(jgz_signals, request, give_midwife, request)[-1] == (
        MIDWIFE,
        "consent_asked",
        None,
    )
    assert (JGZ, "consent_asked", None) not in heard(jgz_signals, request, give_midwife, request)


def test_after_withdrawal_nothing_new_is_heard() -> None:
    def give_midwife(case: Referral, at: datetime) -> None:
        give(case, at, scope=(MIDWIFE, JGZ))

    assert heard(request, give_midwife, withdraw, close)[-1] == (
        MIDWIFE,
        "consent_given",
        None,
    )


def test_expired_consent_tells_nothing_more() -> None:
    def give_a_day(case: Referral, at: datetime) -> None:
        give(case, at, scope=(MIDWIFE, JGZ), days=1)

    def close_later(case: Referral, at: datetime) -> None:
        close(case, at + timedelta(days=5))

    assert heard(request, give_a_day, close_later)[-1][1] == "consent_given"


@given(scope=st.sets(st.sampled_from([MIDWIFE, JGZ, DEBTS]), min_size=1))
def test_a_partner_hears_the_discussion_start_and_closing_exactly_when_named(
    scope: set[str],
) -> None:
    def give_scope(case: Referral, at: datetime) -> None:
        give(case, at, scope=tuple(sorted(scope | {JGZ, DEBTS})))

    def give_exact(case: Referral, at: datetime) -> None:
        give(case, at, scope=tuple(sorted(scope)))

    later = heard(jgz_signals, request, give_exact, close)
    closing = {p for p, status, _ in later if status == "closed"}
    assert closing == scope & {MIDWIFE, JGZ}
    full = heard(jgz_signals, request, give_scope, discuss, match, start)
    for status in ("discussed", "support_started"):
        assert {p for p, s, _ in full if s == status} == (scope | {JGZ}) & {MIDWIFE, JGZ}
    # Whatever the consent, both hear accepted and its outcome, and nothing else without it.
    for partner in (MIDWIFE, JGZ):
        statuses = {s for p, s, _ in later if p == partner}
        assert {"accepted", "consent_given"} <= statuses
        assert statuses - {"accepted", "consent_given"} == (
            {"closed"} if partner in scope else set()
        )


def test_a_follow_up_by_the_coordinator_and_coordinator_events_give_no_accepted() -> None:
    case = Referral.signal(make_signal(), actor=COORDINATOR, at=AT, causation_id="x")
    (event,) = case.collect_events()
    assert feedback_for("Signalled", vars(event), None) == []


def test_a_signal_names_its_partner_and_its_own_id_and_reference() -> None:
    key = "https://jgz.example.nl/app#2026-07#b"
    found = own_signal({"signal_key": key, "source": "https://jgz.example.nl/app"})
    assert found is not None
    source, ref = found
    assert (source, ref.id, ref.reference) == (
        "https://jgz.example.nl/app",
        "2026-07#b",
        str(signal_record_id(key)),
    )
    # Older records without their source: read from the key, up to its first '#'.
    assert own_signal({"signal_key": key}) == ("https://jgz.example.nl/app", ref)
    # A follow-up case's copied record was no partner's signal.
    assert own_signal({"signal_key": "reopening:abc"}) is None
    two = signallers([{"signal_key": f"{MIDWIFE}#1"}, {"signal_key": f"{MIDWIFE}#2"}])
    assert [r.id for r in two[MIDWIFE]] == ["1", "2"]


def test_feedback_carries_no_pseudonym_or_free_text() -> None:
    statuses = {s.value for s in FeedbackStatus}
    case = Referral.signal(
        make_signal(key=f"{MIDWIFE}#m-9"),
        actor=Actor(organisation=MIDWIFE, role=ActorRole.PARTNER),
        at=AT,
        causation_id="s",
    )
    (event,) = case.collect_events()
    (f,) = feedback_for("Signalled", vars(event), None)
    assert f.status.value in statuses
    assert case.person_pseudonym not in repr(f)
    assert "vrije tekst" not in repr(f)


def test_partners_of_a_merged_case_hear_the_case_that_stays_open() -> None:
    def jgz_case_merged_in(case: Referral, at: datetime) -> None:
        other = Referral.signal(
            make_signal(BSN_B, key=f"{JGZ}#jgz-9"),
            actor=Actor(organisation=JGZ, role=ActorRole.PARTNER),
            at=at,
            causation_id="s",
        )
        case.merge_in(other, actor=COORDINATOR, at=at, cid="m")

    def give_both(case: Referral, at: datetime) -> None:
        give(case, at, scope=(MIDWIFE, JGZ))

    after = heard(jgz_case_merged_in, request, give_both, discuss)
    assert after[-2:] == [(MIDWIFE, "discussed", None), (JGZ, "discussed", None)]


def test_a_follow_up_case_keeps_no_partner_as_its_signaller() -> None:
    case = Referral.signal(
        make_signal(key=f"{MIDWIFE}#m-1"),
        actor=Actor(organisation=MIDWIFE, role=ActorRole.PARTNER),
        at=AT,
        causation_id="s1",
    )
    close(case, AT + timedelta(hours=1))
    follow_up = Referral.follow_up(
        case, actor=COORDINATOR, at=AT + timedelta(days=1), causation_id="r"
    )
    assert "source" not in follow_up.signals[0]
    assert signallers(follow_up.signals) == {}
    assert signallers(case.signals) == {
        MIDWIFE: (SignalRef("m-1", str(signal_record_id(f"{MIDWIFE}#m-1"))),)
    }
