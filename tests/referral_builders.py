"""Builders for signals, actors and command inputs shared by the referral tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import uuid4

from domain.after_match import NeedResult, NextStep
from domain.consent_record import ConsentMethod
from domain.correction import CorrectionCause, RetractionReason
from domain.deadlines import ServiceLevels, next_deadline, step_deadline
from domain.escalation import EscalationPurpose
from domain.household import ConsentGiver
from domain.pseudonym import pseudonymise
from domain.referral import Referral
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

KEY = b"test-pseudonym-key-of-32-bytes!!"
KERKRADE, LANDGRAAF, UTRECHT = "GM0928", "GM0882", "GM0344"
JGZ, DEBTS, HOUSING = "ggd-zuid-limburg", "schuldhulp-parkstad", "woonconsulent-regio"
VEILIG_THUIS = "veilig-thuis-zuid-limburg"

# Valid BSNs (they pass the elfproef); test data, not people.
BSN_A, BSN_B, BSN_C = "111222333", "123456782", "999999990"

MIDWIFE = Actor(organisation="verloskunde-parkstad", role=ActorRole.PARTNER, user_ref="m-1")
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-1")


def person(bsn: str = BSN_A) -> str:
    """The pseudonym of a test BSN under the test key."""
    return pseudonymise(bsn, KEY)


def make_signal(
    bsn: str = BSN_A,
    *,
    municipality: str = KERKRADE,
    key: str | None = None,
    risks: tuple[RiskFactor, ...] = (RiskFactor.DEBTS, RiskFactor.STRESS),
    phase: Phase = Phase.PREGNANCY,
    urgency: Urgency = Urgency.ROUTINE,
    due: date = date(2027, 3, 1),
) -> Signal:
    """A valid signal about the person with ``bsn``; a fresh key unless one is given."""
    return Signal(
        signal_key=key or f"verloskunde-parkstad#{uuid4()}",
        municipality=municipality,
        person_pseudonym=person(bsn),
        reporter=Reporter(organisation="verloskunde-parkstad", role=ReporterRole.MIDWIFE),
        phase=PhaseInfo(phase=phase, date=None if phase is Phase.PRECONCEPTION else due),
        risk_factors=risks,
        urgency=urgency,
        personal=PersonalDetails(name="Test Ouder", note="vrije tekst"),
    )


def partner_ctx(signal: Signal) -> c.Context:
    return c.Context(actor=MIDWIFE, causation_id=signal.signal_key)


def coordinator_ctx(causation_id: str = "req-1") -> c.Context:
    return c.Context(actor=COORDINATOR, causation_id=causation_id)


def scores(low: int = 4, high: int = 7) -> HealthScores:
    """Scores with mental well-being and quality of life low, the rest high."""
    return HealthScores(
        bodily_functions=high,
        mental_wellbeing=low,
        meaningfulness=high,
        quality_of_life=low,
        participation=high,
        daily_functioning=high,
    )


# -- driving one aggregate directly ------------------------------------------------------------
def new_case(at: datetime, signal: Signal | None = None) -> Referral:
    return Referral.signal(signal or make_signal(), actor=MIDWIFE, at=at, causation_id="sig-1")


def request(case: Referral, at: datetime) -> None:
    case.request_consent(actor=COORDINATOR, at=at, causation_id="req")


def give(
    case: Referral, at: datetime, scope: tuple[str, ...] = (JGZ, DEBTS), days: int | None = None
) -> None:
    expires = None if days is None else at.date() + timedelta(days=days)
    case.give_consent(
        scope=list(scope), expires_on=expires, actor=COORDINATOR, at=at, causation_id="give"
    )


def decline(case: Referral, at: datetime) -> None:
    case.decline_consent(actor=COORDINATOR, at=at, causation_id="decline")


def withdraw(case: Referral, at: datetime) -> None:
    case.withdraw_consent(actor=COORDINATOR, at=at, causation_id="withdraw")


def discuss(
    case: Referral, at: datetime, participants: tuple[str, ...] = (JGZ,), on: date | None = None
) -> None:
    case.record_discussion(
        on=on or at.date(),
        participants=list(participants),
        scores=scores(),
        needs=[Need.FINANCIAL],
        actor=COORDINATOR,
        at=at,
        causation_id="discuss",
    )


def match(case: Referral, at: datetime, provider: str = DEBTS) -> None:
    case.match_support(
        offers=[{"offer_id": "schuldhulpverlening", "provider": provider}],
        lead_professional="JGZ-verpleegkundige",
        planned_start=at.date() + timedelta(days=7),
        actor=COORDINATOR,
        at=at,
        causation_id="match",
    )


def escalate(
    case: Referral,
    at: datetime,
    organisations: tuple[str, ...] = (JGZ, DEBTS, VEILIG_THUIS),
    purpose: EscalationPurpose = EscalationPurpose.SUPPORT,
) -> None:
    case.escalate(
        meldcode_step=MeldcodeStep.DECIDE,
        legal_basis="Wmo 2015 art. 5.2.6",
        justification="acute onveiligheid na afweging",
        organisations=list(organisations),
        purpose=purpose,
        actor=COORDINATOR,
        at=at,
        causation_id="escalate",
    )


def close(case: Referral, at: datetime) -> None:
    case.close(
        outcome=Outcome.NO_SUPPORT_NEEDED,
        reason="afgerond",
        actor=COORDINATOR,
        at=at,
        causation_id="close",
    )


def add_signal(case: Referral, at: datetime) -> None:
    case.add_signal(make_signal(), actor=MIDWIFE, at=at, causation_id="sig-2")


def birth(case: Referral, at: datetime) -> None:
    case.record_birth(
        child_pseudonym=person(BSN_C),
        sealed_personal=None,
        actor=COORDINATOR,
        at=at,
        causation_id="b",
    )


def merge_other_in(case: Referral, at: datetime) -> None:
    case.merge_in(new_case(at, make_signal(BSN_B)), actor=COORDINATOR, at=at, cid="m")


def merge_into_other(case: Referral, at: datetime) -> None:
    case.merge_into(new_case(at, make_signal(BSN_B)), actor=COORDINATOR, at=at, cid="m")


def start(case: Referral, at: datetime, actor: Actor = COORDINATOR) -> None:
    case.start_support(
        on=at.date(),
        lead_professional="JGZ-verpleegkundige",
        actor=actor,
        at=at,
        causation_id="start",
    )


def evaluate(case: Referral, at: datetime, next_step: NextStep = NextStep.CONTINUE) -> None:
    case.record_evaluation(
        on=at.date(),
        needs={Need.FINANCIAL: NeedResult.PARTLY},
        scores=scores(low=6, high=8),
        next_step=next_step,
        actor=COORDINATOR,
        at=at,
        causation_id="evaluate",
    )


def reopen(case: Referral, at: datetime) -> None:
    case.reopen(
        follow_up_id=str(uuid4()), within_months=6, actor=COORDINATOR, at=at, causation_id="reopen"
    )


def suspend_deadline(case: Referral, at: datetime) -> None:
    case.suspend_deadline(
        found=step_deadline(case, ServiceLevels()),
        reason="gezin op reis",
        until=at.date() + timedelta(days=14),
        actor=COORDINATOR,
        at=at,
        causation_id="suspend",
    )


def resume_deadline(case: Referral, at: datetime) -> None:
    found = step_deadline(case, ServiceLevels())
    case.resume_deadline(found=found, actor=COORDINATOR, at=at, causation_id="resume")


def extend_deadline(case: Referral, at: datetime) -> None:
    held = next_deadline(case, ServiceLevels())
    later = (held.due if held else at.date()) + timedelta(days=7)
    case.extend_deadline(
        found=step_deadline(case, ServiceLevels()),
        reason="meer tijd nodig",
        due=later,
        actor=COORDINATOR,
        at=at,
        causation_id="extend",
    )


def retract(case: Referral, at: datetime) -> None:
    case.retract_signal(
        number=1,
        reason=RetractionReason.WRONG_PERSON,
        actor=COORDINATOR,
        at=at,
        causation_id="retract",
    )


def correct(case: Referral, at: datetime) -> None:
    case.correct_personal_details(
        sealed=None,
        fields=["name"],
        cause=CorrectionCause.CORRECTION,
        actor=COORDINATOR,
        at=at,
        causation_id="correct",
    )


TRANSFER_CONSENT = TransferConsent(
    given_by=ConsentGiver.PARENT, method=ConsentMethod.SPOKEN, given_on=date(2026, 1, 2)
)


def request_transfer(case: Referral, at: datetime, to: str = "GM0882") -> None:
    case.request_transfer(
        to_municipality=to,
        basis=TransferBasis.FAMILY_CONSENT,
        consent=TRANSFER_CONSENT,
        actor=COORDINATOR,
        at=at,
        causation_id="transfer",
    )


def accept_transfer(case: Referral, at: datetime) -> None:
    case.accept_transfer(actor=COORDINATOR, at=at, causation_id="accept")


def refuse_transfer(case: Referral, at: datetime) -> None:
    case.refuse_transfer(reason="geen plek", actor=COORDINATOR, at=at, causation_id="refuse")


def assign(case: Referral, at: datetime) -> None:
    """Assign the case to a colleague coordinator (c-02)."""
    case.assign(coordinator="c-02", actor=COORDINATOR, at=at, causation_id="as")
