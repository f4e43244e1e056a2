"""Property-based: any sequence of commands on any number of cases keeps the invariants.

- never discussed or matched with an organisation that neither the active consent covers nor an
  earlier escalation names for that step (checked on the stored events, independently of the
  guards): an escalation lifts the consent check only for its organisations and purpose;
- closed is final: after ``Closed`` only one ``Reopened`` may be recorded (it opens a linked
  follow-up case), every other command is refused;
- support starts only after a match; a partner confirms it only within the family's active
  consent; an evaluation follows the start and is not dated before it;
- versions increase by exactly one per event, and a refused command changes nothing;
- reloading from the stored events, and through a snapshot, gives the live aggregate's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.after_match import NeedResult, NextStep
from domain.correction import CorrectionCause, RetractionReason
from domain.errors import CaseClosedError, DomainError, InvalidValueError
from domain.escalation import EscalationPurpose
from domain.lifecycle import Action
from domain.referral import Referral
from domain.transfer import TransferBasis
from domain.values import Actor, ActorRole, MeldcodeStep, Need, Outcome
from ks_engine.application import Referrals
from ks_engine.catalogue_file import load_catalogue
from ks_engine.clock import AMSTERDAM
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    BSN_B,
    BSN_C,
    COORDINATOR,
    KERKRADE,
    LANDGRAAF,
    MIDWIFE,
    TRANSFER_CONSENT,
    extend_deadline,
    make_signal,
    new_case,
    person,
    refuse_transfer,
    resume_deadline,
    scores,
    suspend_deadline,
)

ORGS = ("ggd-zuid-limburg", "schuldhulp-parkstad", "woonconsulent-regio", "home-start")
CATALOGUE = load_catalogue()

organisations = st.lists(st.sampled_from(ORGS), max_size=3, unique=True)
scopes = st.lists(st.sampled_from(ORGS), min_size=1, max_size=4, unique=True)


def check_history(events: Sequence[Any]) -> None:
    """The consent rules and the finality of Closed, read from the stored events alone."""
    consent: tuple[set[str], date | None, date] | None = None
    # Per escalation: the organisations it names, whether it covers matching, its day.
    escalations: list[tuple[set[str], bool, date]] = []
    closed = reopened = False
    state = "signalled"
    started_on: date | None = None
    for e in events:
        name = type(e).__name__
        if closed:
            assert name in CLOSED_CASE_EVENTS, f"{name} recorded after closing"
            if name == "Reopened":
                assert not reopened, "reopened twice"
                reopened = True
            continue
        if name == "SupportStarted":
            assert state == "support_matched", f"support started in state {state}"
            named = {
                o for orgs, support, day in escalations if support and day <= e.on for o in orgs
            }
            if e.actor["role"] == "partner" and e.actor["organisation"] not in named:
                assert consent is not None, "a partner confirmed a start without consent"
                assert e.actor["organisation"] in consent[0], "partner outside the consent"
                assert consent[1] is None or e.on <= consent[1], "start on expired consent"
            started_on = e.on
        elif name == "Evaluated":
            assert state in ("support_started", "evaluated"), f"evaluated in state {state}"
            assert started_on is not None, "evaluated without a start"
            assert started_on <= e.on, "evaluated before the start"
        state = STATE_AFTER.get(name) or state
        if name == "ConsentGiven":
            consent = (set(e.scope), e.expires_on, e.occurred_at.date())
        elif name in ("ConsentRequested", "ConsentDeclined", "ConsentWithdrawn"):
            consent = None
        elif name == "Escalated":
            escalations.append((set(e.organisations), e.purpose == "support", e.occurred_at.date()))
        elif name == "Closed" or (
            name == "CasesMerged" and e.merged_case_id == str(e.originator_id)
        ):
            closed = True
        elif name in ("Discussed", "SupportMatched"):
            if name == "Discussed":
                day, involved = e.on, set(e.participants)
            else:
                day, involved = e.occurred_at.date(), {o["provider"] for o in e.offers}
            lifted = {
                o
                for orgs, support, since in escalations
                if since <= day and (support or name == "Discussed")
                for o in orgs
            }
            if involved <= lifted:
                continue
            assert consent is not None, f"{name} with {involved - lifted} without consent"
            scope, expires_on, given_on = consent
            assert given_on <= day, f"{name} dated before consent was given"
            assert expires_on is None or day <= expires_on, f"{name} on expired consent"
            outside = involved - scope - lifted
            assert not outside, f"{name} with {outside} outside the consent and escalations"


# Closing and escalating end or divert a case, a further signal changes little: drawn less
# often, so that the consent paths get explored.
RARE = (
    Action.CLOSE,
    Action.ESCALATE,
    Action.ADD_SIGNAL,
    Action.MERGE,
    Action.MERGE_INTO,
    Action.REOPEN,
    Action.SUSPEND_DEADLINE,
    Action.RESUME_DEADLINE,
    Action.EXTEND_DEADLINE,
    Action.RETRACT_SIGNAL,
    Action.CORRECT_PERSONAL_DETAILS,
    Action.REQUEST_TRANSFER,
    Action.ACCEPT_TRANSFER,
    Action.REFUSE_TRANSFER,
    Action.ASSIGN,
)
WEIGHT = {a: 1 if a in (*RARE, Action.RECORD_BIRTH) else 4 for a in Action}

STATE_AFTER = {
    "ConsentRequested": "consent_requested",
    "ConsentGiven": "consented",
    "ConsentDeclined": "consent_declined",
    "ConsentWithdrawn": "withdrawn",
    "Discussed": "discussed",
    "SupportMatched": "support_matched",
    "SupportStarted": "support_started",
    "Evaluated": "evaluated",
    "Escalated": "escalated",
}

Command = Callable[[Referral, datetime], None]
CLOSED_CASE_EVENTS = {"Reopened", "SignalRetracted", "PersonalDetailsCorrected"}


def involved(case: Referral) -> st.SearchStrategy[list[str]]:
    """Organisations taking part: often within the consent's scope, often not."""
    scope = case.consent["scope"] if case.consent else []
    if not scope:
        return organisations
    return st.lists(st.sampled_from(scope), min_size=1, unique=True) | organisations


def add_signal(data: st.DataObject, case: Referral) -> Command:
    bsn = data.draw(st.sampled_from([BSN_A, BSN_B]), label="bsn")

    def run(c: Referral, at: datetime) -> None:
        signal = make_signal(bsn, municipality=c.municipality)
        c.add_signal(signal, actor=MIDWIFE, at=at, causation_id="s")

    return run


def request_consent(data: st.DataObject, case: Referral) -> Command:
    return lambda c, at: c.request_consent(actor=COORDINATOR, at=at, causation_id="r")


def give_consent(data: st.DataObject, case: Referral) -> Command:
    scope = data.draw(scopes, label="scope")
    valid_for = data.draw(st.none() | st.integers(-1, 10), label="valid for days")

    def run(c: Referral, at: datetime) -> None:
        expires = None if valid_for is None else at.date() + timedelta(days=valid_for)
        c.give_consent(scope=scope, expires_on=expires, actor=COORDINATOR, at=at, causation_id="g")

    return run


def decline_consent(data: st.DataObject, case: Referral) -> Command:
    return lambda c, at: c.decline_consent(actor=COORDINATOR, at=at, causation_id="d")


def withdraw_consent(data: st.DataObject, case: Referral) -> Command:
    return lambda c, at: c.withdraw_consent(actor=COORDINATOR, at=at, causation_id="w")


def record_discussion(data: st.DataObject, case: Referral) -> Command:
    participants = data.draw(involved(case), label="participants")
    days_ago = data.draw(st.integers(0, 2), label="days ago")

    def run(c: Referral, at: datetime) -> None:
        c.record_discussion(
            on=at.date() - timedelta(days=days_ago),
            participants=participants,
            scores=scores(),
            needs=[Need.FINANCIAL],
            actor=COORDINATOR,
            at=at,
            causation_id="disc",
        )

    return run


def match_support(data: st.DataObject, case: Referral) -> Command:
    providers = data.draw(involved(case), label="providers")
    offers = [{"offer_id": f"offer-{p}", "provider": p} for p in providers]

    def run(c: Referral, at: datetime) -> None:
        c.match_support(
            offers=offers,
            lead_professional="JGZ-verpleegkundige",
            planned_start=at.date(),
            actor=COORDINATOR,
            at=at,
            causation_id="m",
        )

    return run


def escalate(data: st.DataObject, case: Referral) -> Command:
    justified = data.draw(st.booleans(), label="justified")
    why = "acute onveiligheid na afweging" if justified else "kort"
    named = data.draw(organisations, label="escalation organisations")
    purpose = data.draw(st.sampled_from(list(EscalationPurpose)), label="purpose")

    def run(c: Referral, at: datetime) -> None:
        c.escalate(
            meldcode_step=MeldcodeStep.DECIDE,
            legal_basis="Wmo 2015 art. 5.2.6",
            justification=why,
            organisations=list(named),
            purpose=purpose,
            actor=COORDINATOR,
            at=at,
            causation_id="e",
        )

    return run


def close(data: st.DataObject, case: Referral) -> Command:
    outcome = data.draw(st.sampled_from(Outcome), label="outcome")
    return lambda c, at: c.close(
        outcome=outcome, reason="", actor=COORDINATOR, at=at, causation_id="c"
    )


def record_birth(data: st.DataObject, case: Referral) -> Command:
    child = data.draw(st.sampled_from([BSN_A, BSN_B, BSN_C]), label="child")
    return lambda c, at: c.record_birth(
        child_pseudonym=person(child),
        sealed_personal=None,
        actor=COORDINATOR,
        at=at,
        causation_id="b",
    )


def merge(data: st.DataObject, case: Referral) -> Command:
    """Take in another household's case (drawn fresh: its own events are not kept here)."""
    return lambda c, at: c.merge_in(
        new_case(at, make_signal(BSN_C)), actor=COORDINATOR, at=at, cid="m"
    )


def merge_into(data: st.DataObject, case: Referral) -> Command:
    return lambda c, at: c.merge_into(
        new_case(at, make_signal(BSN_C)), actor=COORDINATOR, at=at, cid="m"
    )


def record_discussion_of(case: Referral, at: datetime, participants: list[str]) -> None:
    case.record_discussion(
        on=at.date(),
        participants=participants,
        scores=scores(),
        needs=[Need.FINANCIAL],
        actor=COORDINATOR,
        at=at,
        causation_id="disc",
    )


def start_support(data: st.DataObject, case: Referral) -> Command:
    by_partner = data.draw(st.sampled_from((None, None, None, *ORGS)), label="partner")
    days_ago = data.draw(st.sampled_from((0, 0, 0, 1, 3, -1)), label="days ago")
    actor = (
        COORDINATOR
        if by_partner is None
        else Actor(organisation=by_partner, role=ActorRole.PARTNER, user_ref="p")
    )

    def run(c: Referral, at: datetime) -> None:
        c.start_support(
            on=at.date() - timedelta(days=days_ago),
            lead_professional="JGZ",
            actor=actor,
            at=at,
            causation_id="st",
        )

    return run


def record_evaluation(data: st.DataObject, case: Referral) -> Command:
    found = st.dictionaries(st.just(Need.FINANCIAL), st.sampled_from(NeedResult), min_size=1)
    any_needs = st.dictionaries(st.sampled_from(Need), st.sampled_from(NeedResult), max_size=2)
    needs = data.draw(found | any_needs, label="needs")
    days_ago = data.draw(st.sampled_from((0, 0, 1, 10, -1)), label="days ago")
    next_step = data.draw(st.sampled_from(NextStep), label="next step")

    def run(c: Referral, at: datetime) -> None:
        c.record_evaluation(
            on=at.date() - timedelta(days=days_ago),
            needs=needs,
            scores=scores(),
            next_step=next_step,
            actor=COORDINATOR,
            at=at,
            causation_id="ev",
        )

    return run


def reopen(data: st.DataObject, case: Referral) -> Command:
    return lambda c, at: c.reopen(
        follow_up_id=str(uuid4()), within_months=6, actor=COORDINATOR, at=at, causation_id="ro"
    )


def retract_signal(data: st.DataObject, case: Referral) -> Command:
    number = data.draw(st.integers(1, len(case.signals) + 1), label="signal number")
    reason = data.draw(st.sampled_from(RetractionReason), label="reason")

    def run(c: Referral, at: datetime) -> None:
        c.retract_signal(number=number, reason=reason, actor=COORDINATOR, at=at, causation_id="rs")

    return run


def correct_details(data: st.DataObject, case: Referral) -> Command:
    fields = data.draw(st.lists(st.sampled_from(["name", "phone", "note"]), max_size=2))

    def run(c: Referral, at: datetime) -> None:
        cause = CorrectionCause.CORRECTION
        c.correct_personal_details(
            sealed=None, fields=fields, cause=cause, actor=COORDINATOR, at=at, causation_id="cd"
        )

    return run


def ask_transfer(data: st.DataObject, case: Referral) -> Command:
    to = data.draw(st.sampled_from([KERKRADE, LANDGRAAF]), label="to")
    basis = data.draw(st.sampled_from(TransferBasis), label="basis")
    consent = TRANSFER_CONSENT if data.draw(st.booleans(), label="consent") else None
    return lambda c, at: c.request_transfer(
        to_municipality=to,
        basis=basis,
        consent=consent,
        actor=COORDINATOR,
        at=at,
        causation_id="tr",
    )


def accept_the_transfer(data: st.DataObject, case: Referral) -> Command:
    def run(c: Referral, at: datetime) -> None:
        c.accept_transfer(actor=COORDINATOR, at=at, causation_id="ta")

    return run


def assign(data: st.DataObject, case: Referral) -> Command:
    """To one of two colleagues, or to someone who is no coordinator id at all."""
    who = data.draw(st.sampled_from(("c-01", "c-02", "not a coordinator")), label="coordinator")
    return lambda c, at: c.assign(coordinator=who, actor=COORDINATOR, at=at, causation_id="as")


COMMANDS: dict[Action, Callable[[st.DataObject, Referral], Command]] = {
    Action.ADD_SIGNAL: add_signal,
    Action.REQUEST_CONSENT: request_consent,
    Action.GIVE_CONSENT: give_consent,
    Action.DECLINE_CONSENT: decline_consent,
    Action.WITHDRAW_CONSENT: withdraw_consent,
    Action.RECORD_DISCUSSION: record_discussion,
    Action.MATCH_SUPPORT: match_support,
    Action.ESCALATE: escalate,
    Action.CLOSE: close,
    Action.RECORD_BIRTH: record_birth,
    Action.MERGE: merge,
    Action.MERGE_INTO: merge_into,
    Action.START_SUPPORT: start_support,
    Action.RECORD_EVALUATION: record_evaluation,
    Action.REOPEN: reopen,
    Action.SUSPEND_DEADLINE: lambda data, case: suspend_deadline,
    Action.RESUME_DEADLINE: lambda data, case: resume_deadline,
    Action.EXTEND_DEADLINE: lambda data, case: extend_deadline,
    Action.RETRACT_SIGNAL: retract_signal,
    Action.CORRECT_PERSONAL_DETAILS: correct_details,
    Action.REQUEST_TRANSFER: ask_transfer,
    Action.ACCEPT_TRANSFER: accept_the_transfer,
    Action.REFUSE_TRANSFER: lambda data, case: refuse_transfer,
    Action.ASSIGN: assign,
}


class ReferralLifecycle(RuleBasedStateMachine):
    """Commands on several cases of one application on the in-memory store."""

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
        self.app = Referrals(
            {"PERSISTENCE_MODULE": "eventsourcing.popo"}, catalogue=CATALOGUE, clock=self.clock
        )
        self.live: dict[UUID, Referral] = {}
        self.snapshotted: dict[UUID, int] = {}

    def teardown(self) -> None:
        self.app.close()

    # -- cases and time -------------------------------------------------------------------
    @initialize(target=cases)
    def first_case(self) -> UUID:
        return self.open_case(BSN_A, KERKRADE)

    @initialize(target=cases)
    def second_case(self) -> UUID:
        return self.open_case(BSN_B, LANDGRAAF)

    @initialize(target=cases)
    def matched_case(self) -> UUID:
        """A third case starts with its support matched, so the steps after it get explored."""
        case_id = self.open_case(BSN_A, LANDGRAAF)
        case, at = self.live[case_id], self.clock()
        case.request_consent(actor=COORDINATOR, at=at, causation_id="r")
        case.give_consent(
            scope=list(ORGS[:2]), expires_on=None, actor=COORDINATOR, at=at, causation_id="g"
        )
        record_discussion_of(case, at, list(ORGS[:1]))
        case.match_support(
            offers=[{"offer_id": "offer", "provider": ORGS[1]}],
            lead_professional="JGZ",
            planned_start=at.date(),
            actor=COORDINATOR,
            at=at,
            causation_id="m",
        )
        self.app.save(case)
        return case_id

    def open_case(self, bsn: str, where: str) -> UUID:
        case = Referral.signal(
            make_signal(bsn, municipality=where), actor=MIDWIFE, at=self.clock(), causation_id="s"
        )
        self.app.save(case)
        self.live[case.id] = case
        return case.id

    @rule(days=st.integers(0, 6), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.clock.advance(days=days, hours=hours)

    @rule(case_id=cases)
    def snapshot(self, case_id: UUID) -> None:
        version = self.live[case_id].version
        if self.snapshotted.get(case_id) != version:  # one snapshot per version
            self.app.take_snapshot(case_id)
            self.snapshotted[case_id] = version

    # -- commands -------------------------------------------------------------------------
    def attempt(self, case_id: UUID, command: Command) -> None:
        case = self.live[case_id]
        before, was_closed = case.version, not case.is_open
        refused: DomainError | None = None
        try:
            command(case, self.clock())
        except DomainError as error:
            refused = error
        if refused is not None:
            assert case.version == before
            assert case.pending_events == []
            assert not was_closed or isinstance(refused, CaseClosedError | InvalidValueError)
            return
        name = type(case.pending_events[0]).__name__
        # Correction (AVG art. 16) reaches a closed case too; reopening starts from one.
        assert not was_closed or name in CLOSED_CASE_EVENTS, "a closed case accepted a command"
        event(type(case.pending_events[0]).__name__)  # coverage: --hypothesis-show-statistics
        assert case.version == before + 1
        assert len(case.pending_events) == 1
        self.app.save(case)

    @rule(case_id=cases, data=st.data())
    def command(self, case_id: UUID, data: st.DataObject) -> None:
        """Mostly an action the lifecycle allows now (so cases make progress), sometimes any."""
        allowed = self.live[case_id].allowed_actions()
        weighted = [a for a in allowed for _ in range(WEIGHT[a])]
        anything = not weighted or data.draw(st.integers(0, 9), label="any action") == 0
        action = data.draw(st.sampled_from(list(Action) if anything else weighted), label="action")
        self.attempt(case_id, COMMANDS[action](data, self.live[case_id]))

    # -- invariants -----------------------------------------------------------------------
    @precondition(lambda self: bool(self.live))
    @invariant()
    def stored_history_matches_the_live_cases(self) -> None:
        for case_id, live in self.live.items():
            events = list(self.app.events.get(case_id))
            assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
            assert live.version == len(events)
            check_history(events)
            replayed = reduce(lambda agg, e: e.mutate(agg), events, None)
            assert replayed == live, "replaying the stored events gives another state"
            # The repository reads through the latest snapshot, if one was taken.
            assert self.app.repository.get(case_id) == live


ReferralLifecycle.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReferralLifecycle = ReferralLifecycle.TestCase
