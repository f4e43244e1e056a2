"""A seeded generator of many cases driven through the application, shared by the projection
tests, and the check that the pure projections agree with the aggregates it produced."""

from __future__ import annotations

import contextlib
import random
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Notification

from adapters.nats.relay import EventTranslator, coverage, is_referral
from domain.after_match import NeedResult, NextStep
from domain.consent_record import ConsentMethod
from domain.correction import RetractionReason
from domain.deadline_holds import resumed_due
from domain.deadlines import ServiceLevels, next_deadline
from domain.errors import DomainError
from domain.escalation import EscalationPurpose
from domain.household import ConsentGiver
from domain.lifecycle import Action
from domain.restriction import RestrictionBasis
from domain.transfer import TransferBasis, TransferConsent
from domain.values import (
    Actor,
    ActorRole,
    HealthScores,
    MeldcodeStep,
    Need,
    Outcome,
    PersonalDetails,
    Phase,
    PhaseInfo,
    Reporter,
    ReporterRole,
    RiskFactor,
    Signal,
    Urgency,
)
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.catalogue_file import load_catalogue
from projections import case_view, work_queue
from projections.event import DATA_MODELS, ReferralEvent, parse_event
from projections.partition import Message
from tests.conftest import FixedClock

MUNICIPALITIES = ("GM0928", "GM0882", "GM0981")
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-7")
CTX = c.Context(actor=COORDINATOR, causation_id="scenario")
# Marks that must never leave the engine: the no-personal-data scan looks for each of them.
NAME = "Zwaantje Vertrouwelijk-Naam"
BIRTH_DATE = date(1987, 6, 15)
NOTE = "notitie-alleen-voor-het-knooppunt"
JUSTIFICATION = "verantwoording-vertrouwelijk: acute zorgen over veiligheid"
REASON = "sluitreden-vrije-tekst-vertrouwelijk"
LEAD = "Jantje Leidend-Professional"
SECRET_MARKS = (NAME, BIRTH_DATE.isoformat(), "15-06-1987", NOTE, JUSTIFICATION, REASON, LEAD)


def referrals(clock: FixedClock, env: dict[str, str] | None = None) -> Referrals:
    """The application on the given store (in memory unless ``env`` says otherwise)."""
    return Referrals(
        env or {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        catalogue=load_catalogue(None),
        clock=clock,
    )


def signal_for(
    municipality: str,
    pseudonym: str,
    *,
    role: ReporterRole = ReporterRole.MIDWIFE,
    phase: Phase = Phase.PREGNANCY,
    risks: tuple[RiskFactor, ...] = (RiskFactor.DEBTS,),
    urgency: Urgency = Urgency.ROUTINE,
    on: date | None = None,
) -> tuple[Signal, c.Context]:
    """A signal carrying every kind of personal detail, as a partner might send it."""
    key = f"partner-{role.value}#{uuid4()}"
    phase_date = None if phase is Phase.PRECONCEPTION else (on or date(2027, 1, 1))
    sig = Signal(
        signal_key=key,
        municipality=municipality,
        person_pseudonym=pseudonym,
        reporter=Reporter(organisation=f"org-{role.value}", role=role),
        phase=PhaseInfo(phase=phase, date=phase_date),
        risk_factors=risks,
        urgency=urgency,
        personal=PersonalDetails(name=NAME, birth_date=BIRTH_DATE, note=NOTE),
    )
    return sig, c.Context(
        actor=Actor(organisation=f"org-{role.value}", role=ActorRole.PARTNER), causation_id=key
    )


def scores(rng: random.Random) -> HealthScores:
    return HealthScores(**{d: rng.randint(0, 10) for d in HealthScores.model_fields})


def perform(app: Referrals, case_id: UUID, action: Action, rng: random.Random) -> UUID | None:
    """Run the command for ``action`` with plausible inputs (DomainError when refused); the
    follow-up case a reopening opens."""
    today = app.clock().date()
    providers = sorted({o.organization_id for o in app.catalogue.services})
    if action is Action.REQUEST_CONSENT:
        app.request_consent(c.RequestConsent(case_id=case_id), CTX)
    elif action is Action.RECORD_BIRTH:
        child = f"{rng.getrandbits(128):032x}"
        app.record_birth(
            c.RecordBirth(case_id=case_id, child_pseudonym=child, birth_date=today), CTX
        )
    elif action is Action.GIVE_CONSENT:
        expiry = rng.choice([None, 30, 365])
        app.record_consent(
            c.RecordConsent(
                case_id=case_id,
                given=True,
                scope=providers,
                expires_on=None if expiry is None else today + timedelta(days=expiry),
            ),
            CTX,
        )
    elif action is Action.DECLINE_CONSENT:
        app.record_consent(c.RecordConsent(case_id=case_id, given=False), CTX)
    elif action is Action.WITHDRAW_CONSENT:
        app.withdraw_consent(c.WithdrawConsent(case_id=case_id), CTX)
    elif action is Action.RECORD_DISCUSSION:
        app.record_discussion(
            c.RecordDiscussion(
                case_id=case_id,
                on=today,
                participants=rng.sample(providers, 2),
                scores=scores(rng),
                needs=rng.sample(list(Need), rng.randint(0, 3)),
            ),
            CTX,
        )
    elif action is Action.MATCH_SUPPORT:
        offers = [s.id for s in app.catalogue.services]
        app.match_support(
            c.MatchSupport(
                case_id=case_id,
                offer_ids=rng.sample(offers, rng.randint(1, 2)),
                lead_professional=LEAD,
                planned_start=today + timedelta(days=7),
            ),
            CTX,
        )
    elif action is Action.ESCALATE:
        app.escalate(
            c.Escalate(
                case_id=case_id,
                meldcode_step=rng.choice(list(MeldcodeStep)),
                legal_basis="Wmo 2015 art. 5.2.6",
                justification=JUSTIFICATION,
                organisations=providers,  # no draw: the seeded traffic stays as it was
                purpose=EscalationPurpose.SUPPORT,
            ),
            CTX,
        )
    elif action is Action.CLOSE:
        app.close_case(
            c.Close(case_id=case_id, outcome=rng.choice(list(Outcome)), reason=REASON), CTX
        )
    elif action is Action.START_SUPPORT:
        app.start_support(c.StartSupport(case_id=case_id, on=today, lead_professional=LEAD), CTX)
    elif action is Action.RECORD_EVALUATION:
        found = {n for d in app.get_case(case_id).discussions for n in d["needs"]} or {"housing"}
        app.record_evaluation(
            c.RecordEvaluation(
                case_id=case_id,
                on=today,
                needs={Need(n): rng.choice(list(NeedResult)) for n in found},
                scores=scores(rng),
                next_step=rng.choice(list(NextStep)),
            ),
            CTX,
        )
    elif action is Action.REOPEN:
        return app.reopen_case(c.Reopen(case_id=case_id), CTX).case_id
    return None


OWNERSHIP = 0.1  # the share of steps in which a case is assigned and a note added
HOLDS = 0.15  # the share of steps in which a case's deadline waits, goes on or moves
# Played by ``hold`` with its own random numbers, not drawn among the lifecycle's steps.
HOLD_ACTIONS = (Action.SUSPEND_DEADLINE, Action.RESUME_DEADLINE, Action.EXTEND_DEADLINE)


def hold(app: Referrals, case_id: UUID, rng: random.Random) -> None:
    """Suspend, resume or extend the case's deadline; a refusal (none running, twice) is fine."""
    today = app.clock().date()
    held = next_deadline(app.get_case(case_id), app.service_levels)
    suspended = held is not None and held.suspended_until is not None
    choice = "resume" if suspended and rng.random() < 0.7 else rng.choice(["suspend", "extend"])
    with contextlib.suppress(DomainError):
        if choice == "suspend":
            until = today + timedelta(days=rng.randint(1, 30))
            app.suspend_deadline(
                c.SuspendDeadline(case_id=case_id, reason=REASON, until=until), CTX
            )
        elif choice == "resume":
            app.resume_deadline(c.ResumeDeadline(case_id=case_id), CTX)
        else:
            due = today + timedelta(days=rng.randint(5, 60))
            app.extend_deadline(c.ExtendDeadline(case_id=case_id, reason=REASON, due=due), CTX)


# Correction and moving house: played by ``correct_or_move`` with random numbers of its own.
MOVE_ACTIONS = (
    Action.RETRACT_SIGNAL,
    Action.CORRECT_PERSONAL_DETAILS,
    Action.REQUEST_TRANSFER,
    Action.ACCEPT_TRANSFER,
    Action.REFUSE_TRANSFER,
)
MOVING = TransferConsent(
    given_by=ConsentGiver.BOTH, method=ConsentMethod.WRITTEN, given_on=date(2026, 1, 5)
)


def correct_or_move(app: Referrals, case_id: UUID, rng: random.Random) -> None:
    """Retract a signal, correct the details, or move the case (accepted or refused); a
    refusal (an erased case, a closed one, the same municipality) is fine."""
    case = app.get_case(case_id)
    choice = rng.choice(["retract", "correct", "move"])
    with contextlib.suppress(DomainError):
        if choice == "retract" and case.signals:
            number = rng.randint(1, len(case.signals))
            reason = rng.choice(list(RetractionReason))
            app.retract_signal(
                c.RetractSignal(case_id=case_id, signal_number=number, reason=reason), CTX
            )
        elif choice == "correct":
            app.correct_personal_details(
                c.CorrectPersonalDetails(case_id=case_id, phone="0612345678", remove=["note"]), CTX
            )
        else:
            to = rng.choice([m for m in MUNICIPALITIES if m != case.municipality])
            basis = TransferBasis.FAMILY_CONSENT
            asked = c.RequestTransfer(
                case_id=case_id, to_municipality=to, basis=basis, consent=MOVING
            )
            app.request_transfer(asked, CTX)
            if rng.random() < 0.7:
                app.accept_transfer(c.AcceptTransfer(case_id=case_id), CTX)
            else:
                app.refuse_transfer(c.RefuseTransfer(case_id=case_id, reason=REASON), CTX)


def play(app: Referrals, clock: FixedClock, seed: int, *, steps: int = 300) -> list[UUID]:
    """Random but seeded traffic: new and repeated signals, and coordinators' commands."""
    rng = random.Random(seed)
    rights = random.Random(seed + 1)  # apart, so the rest of the traffic stays as it was
    holds = random.Random(seed + 2)  # deadlines that wait or move, apart too
    moves = random.Random(seed + 3)  # correction and moving house, apart too
    owners = random.Random(seed + 4)  # who owns a case and the notes on it, apart too
    people: list[tuple[str, str]] = []
    cases: list[UUID] = []
    for _ in range(steps):
        clock.advance(hours=rng.choice([1, 3, 20, 49]))
        if not cases or rng.random() < 0.3:
            if people and rng.random() < 0.3:
                municipality, pseudonym = rng.choice(people)
            else:
                municipality, pseudonym = rng.choice(MUNICIPALITIES), f"{rng.getrandbits(128):032x}"
                people.append((municipality, pseudonym))
            outcome = app.receive_signal(
                *signal_for(
                    municipality,
                    pseudonym,
                    role=rng.choice(list(ReporterRole)),
                    phase=rng.choice(list(Phase)),
                    risks=tuple(rng.sample(list(RiskFactor), rng.randint(1, 3))),
                    urgency=rng.choice(list(Urgency)),
                )
            )
            if outcome.case_id is not None and outcome.case_id not in cases:
                cases.append(outcome.case_id)
            continue
        case = app.get_case(rng.choice(cases))
        if case.personal_erased is None and rng.random() < 0.02:  # the family asks for erasure
            app.erase_personal_data(case.id, CTX)
            continue
        if rights.random() < 0.03:  # the family asks for restriction; the officer lifts it
            basis = rights.choice(list(RestrictionBasis))
            app.restrict_processing(c.Restrict(case_id=case.id, basis=basis), CTX)
            app.lift_restriction(c.LiftRestriction(case_id=case.id), CTX)
        if owners.random() < OWNERSHIP:  # assigned to a coordinator; a note added
            with contextlib.suppress(DomainError):  # closed, restricted, erased, same owner
                who = owners.choice(("c-01", "c-02"))
                app.assign_case(c.Assign(case_id=case.id, coordinator=who), CTX)
            with contextlib.suppress(DomainError):
                app.add_note(c.AddNote(case_id=case.id, text=NOTE), CTX)
        if case.is_open and holds.random() < HOLDS:  # a deadline waits, goes on, or moves
            hold(app, case.id, holds)
        if moves.random() < 0.04:  # a wrong signal, a wrong detail, or the family moved
            correct_or_move(app, case.id, moves)
        if case.is_open and rng.random() < 0.03:  # two cases turn out to be one household
            others = [o for o in cases if o != case.id and app.get_case(o).is_open]
            others = [o for o in others if app.get_case(o).municipality == case.municipality]
            if others:
                with contextlib.suppress(DomainError):  # refused for an erased case
                    app.merge_cases(c.MergeCases(case_id=case.id, other_case_id=others[0]), CTX)
                continue
        household = (
            Action.ADD_SIGNAL,
            Action.MERGE,
            Action.MERGE_INTO,
            *HOLD_ACTIONS,
            *MOVE_ACTIONS,
            Action.ASSIGN,  # played apart, above
        )
        actions = [a for a in case.allowed_actions() if a not in household]
        if case.state.value == "escalated":  # escalating again: not drawn, traffic stays as was
            actions = [a for a in actions if a is not Action.ESCALATE]
        if Action.RECORD_BIRTH in actions and rng.random() < 0.8:
            actions.remove(Action.RECORD_BIRTH)
        if not actions or (Action.CLOSE in actions and len(actions) > 1 and rng.random() < 0.7):
            actions = [a for a in actions if a is not Action.CLOSE]
        if not actions:
            continue
        # Matched support is usually followed up: started, then evaluated.
        follow = [a for a in actions if a in (Action.START_SUPPORT, Action.RECORD_EVALUATION)]
        if follow and rng.random() < 0.9:
            actions = follow
        with contextlib.suppress(DomainError):
            follow_up = perform(app, case.id, rng.choice(actions), rng)
            if follow_up is not None:
                cases.append(follow_up)
    return cases


def notifications(app: Referrals) -> list[Notification]:
    """The whole notification log, in order."""
    found: list[Notification] = []
    while batch := app.notification_log.select(found[-1].id + 1 if found else 1, 10):
        found.extend(batch)
    return found


def published_messages(app: Referrals) -> list[Message]:
    """Every Referral event as the relay publishes it: subject, payload, stream sequence."""
    log = notifications(app)
    through = coverage([(n.id, is_referral(n)) for n in log])
    translator = EventTranslator(app)
    out = [translator.translate(n, through[n.id]) for n in log if is_referral(n)]
    return [(o.subject, o.payload, seq) for seq, o in enumerate(out, start=1)]


def published(app: Referrals) -> list[ReferralEvent]:
    """Every Referral event as the relay publishes it and a projection reads it back."""
    return [parse_event(data, seq) for _, data, seq in published_messages(app)]


def make_event(
    name: str,
    data: dict[str, Any],
    *,
    seq: int = 1,
    version: int = 1,
    case_id: str = "c-1",
    municipality: str = "GM0928",
    position: int | None = None,
) -> ReferralEvent:
    """A hand-built published event, for the step-by-step unit tests."""
    base: dict[str, Any] = {
        "actor": {"organisation": "gemeente-kerkrade", "role": "coordinator"},
        "occurred_at": datetime(2026, 11, 2, 9, 30).isoformat() + "+01:00",
    }
    return ReferralEvent(
        seq=seq,
        id=f"e-{seq}",
        name=name,
        case_id=case_id,
        municipality=municipality,
        version=version,
        position=position or seq,
        through=position or seq,
        data=DATA_MODELS[name].model_validate(base | data),
    )


def test_the_scenario_produces_every_kind_of_event(clock: FixedClock) -> None:
    app = referrals(clock)
    play(app, clock, seed=3, steps=300)
    names = {e.name for e in published(app)}
    assert names == set(DATA_MODELS)


def test_pure_views_agree_with_the_aggregates(clock: FixedClock) -> None:
    # Given many cases played through the application
    app = referrals(clock)
    cases = play(app, clock, seed=11, steps=300)
    levels = ServiceLevels()
    # When the published events are folded through the pure projections
    queue: dict[str, work_queue.WorkItem | None] = {}
    views: dict[str, case_view.CaseView | None] = {}
    for e in published(app):
        queue[e.case_id] = work_queue.apply(queue.get(e.case_id), e, levels)
        views[e.case_id] = case_view.apply(views.get(e.case_id), e)
    # Then each open case has a queue row with the aggregate's state, urgency and deadline
    assert len(cases) > 40
    for case_id in cases:
        case = app.get_case(case_id)
        item, view = queue[str(case_id)], views[str(case_id)]
        assert view is not None
        assert (view.state, view.version) == (case.state.value, case.version)
        assert view.municipality == case.municipality
        assert view.risk_factors == case.risk_factors
        assert len(view.signals) == len(case.signals)
        assert len(view.discussions) == len(case.discussions)
        assert len(view.support) == len(case.support)
        assert [x.meldcode_step for x in view.escalations] == [
            x["meldcode_step"] for x in case.escalations
        ]
        consent = case.consent
        assert (view.consent and view.consent.status) == (consent and consent["status"])
        erased = case.personal_erased
        assert view.personal_data_erased_at == (erased["at"] if erased else None)
        if not case.is_open:
            assert item is None
            assert case.outcome is not None
            assert view.outcome == case.outcome["code"]
            continue
        assert item is not None
        assert (item.state, item.urgency.value) == (case.state, case.urgency)
        assert list(item.risk_factors) == case.risk_factors
        assert item.signal_count == len(case.signals)
        assert item.municipality == case.municipality
        deadline = next_deadline(case, levels)
        due = deadline.due if deadline else None
        if deadline is not None and deadline.suspended_until is not None:
            since = date.fromisoformat(case.deadline_hold["since"])  # type: ignore[index]
            due = resumed_due(since, deadline.due, deadline.suspended_until)  # if resumed then
        assert (item.deadline_step, item.deadline_due) == (
            (deadline.step, due) if deadline else (None, None)
        )
        assert item.suspended_until == (deadline.suspended_until if deadline else None)
