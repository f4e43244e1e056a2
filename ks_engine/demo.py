"""A scripted walk through the Knooppunt on the embedded store, for `ks demo` / `make run`."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

from domain.errors import DomainError
from domain.escalation import EscalationPurpose
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
from ks_engine.bootstrap import Engine

MIDWIFE = "https://verloskunde-parkstad.nl"
JGZ = "ggd-zuid-limburg"
GP = "https://huisartsen-heuvelland.nl"
VEILIG_THUIS = "veilig-thuis-zuid-limburg"
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-01")


def demo_bsn(rng: random.Random) -> str:
    """A random nine-digit number passing the elfproef: never a real person's on purpose."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        total = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True))
        check = total % 11
        if check < 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(check)


def run_demo(engine: Engine, say: Callable[[str], None] = print) -> list[UUID]:
    """Three signals (two about one person), consent given and declined, a discussion, a
    support match and an escalation. Returns the case ids it created."""
    app = engine.referrals
    rng = random.Random()  # noqa: S311 - demo data, not a secret
    mother, other = demo_bsn(rng), demo_bsn(rng)
    today = app.clock().date()

    def signal(
        bsn: str,
        org: str,
        role: ReporterRole,
        municipality: str,
        risks: list[RiskFactor],
        urgency: Urgency,
    ) -> tuple[Signal, c.Context]:
        key = f"{org}#{uuid4()}"
        sig = Signal(
            signal_key=key,
            municipality=municipality,
            person_pseudonym=engine.pseudonymise(bsn),
            reporter=Reporter(organisation=org, role=role),
            phase=PhaseInfo(phase=Phase.PREGNANCY, date=today + timedelta(days=120)),
            risk_factors=tuple(risks),
            urgency=urgency,
            personal=PersonalDetails(name="Demo Ouder", note="demo"),
        )
        return sig, c.Context(
            actor=Actor(organisation=org, role=ActorRole.PARTNER), causation_id=key
        )

    def show(case_id: UUID, step: str) -> None:
        case = app.get_case(case_id)
        say(f"  case {str(case_id)[:8]}  v{case.version:<2} {case.state.value:<17} <- {step}")

    ctx = c.Context(actor=COORDINATOR, causation_id=f"demo-{uuid4()}")
    say("Signals from partners:")
    first = app.receive_signal(
        *signal(
            mother,
            MIDWIFE,
            ReporterRole.MIDWIFE,
            "GM0928",
            [RiskFactor.DEBTS, RiskFactor.STRESS],
            Urgency.SOON,
        )
    )
    assert first.case_id is not None
    show(first.case_id, "midwife signals (new case)")
    second = app.receive_signal(
        *signal(
            mother,
            JGZ,
            ReporterRole.YOUTH_HEALTH_CARE,
            "GM0928",
            [RiskFactor.HOUSING],
            Urgency.ROUTINE,
        )
    )
    assert second.case_id == first.case_id
    assert second.matched_existing
    show(first.case_id, "JGZ signals the same person (matched, signal added)")
    third = app.receive_signal(
        *signal(
            other,
            GP,
            ReporterRole.GENERAL_PRACTITIONER,
            "GM0882",
            [RiskFactor.DOMESTIC_VIOLENCE],
            Urgency.URGENT,
        )
    )
    assert third.case_id is not None
    show(third.case_id, "GP signals another person in Landgraaf (new case)")

    say("Family A: consent given, discussed, support matched:")
    a = first.case_id
    app.request_consent(c.RequestConsent(case_id=a), ctx)
    show(a, "consent requested")
    app.record_consent(
        c.RecordConsent(
            case_id=a,
            given=True,
            scope=[JGZ, "schuldhulp-parkstad"],
            expires_on=today + timedelta(days=365),
        ),
        ctx,
    )
    show(a, "consent given for JGZ and debt counselling")
    try:
        app.record_discussion(
            c.RecordDiscussion(
                case_id=a,
                on=today,
                participants=[JGZ, "woonconsulent-regio"],
                scores=_scores(),
                needs=[Need.FINANCIAL],
            ),
            ctx,
        )
    except DomainError as refused:
        say(f"  refused: {refused}")
    app.record_discussion(
        c.RecordDiscussion(
            case_id=a,
            on=today,
            participants=[JGZ, "schuldhulp-parkstad"],
            scores=_scores(),
            needs=[Need.FINANCIAL, Need.HOUSING],
        ),
        ctx,
    )
    show(a, "discussed at the Knooppunt")
    best = app.suggest_support(a)[0]
    say(f"  best fitting offer: {best.offer.name} ({best.provider.name}), score {best.score}")
    app.match_support(
        c.MatchSupport(
            case_id=a,
            offer_ids=["schuldhulpverlening"],
            lead_professional="JGZ-verpleegkundige wijk Bleijerheide",
            planned_start=today + timedelta(days=7),
        ),
        ctx,
    )
    show(a, "support matched: debt counselling")

    say("Family B: consent declined, then escalated under the Meldcode:")
    b = third.case_id
    app.request_consent(c.RequestConsent(case_id=b), ctx)
    app.record_consent(c.RecordConsent(case_id=b, given=False), ctx)
    show(b, "consent declined")
    app.escalate(
        c.Escalate(
            case_id=b,
            meldcode_step=MeldcodeStep.DECIDE,
            legal_basis="Wmo 2015 art. 5.2.6",
            justification="acute onveiligheid na afweging met Veilig Thuis",
            organisations=[VEILIG_THUIS],
            purpose=EscalationPurpose.DISCUSSION,
        ),
        ctx,
    )
    show(b, "escalated (Meldcode step 5)")
    app.close_case(
        c.Close(case_id=b, outcome=Outcome.REFERRED_TO_VEILIG_THUIS, reason="melding gedaan"), ctx
    )
    show(b, "closed: reported to Veilig Thuis")
    return [a, b]


def _scores() -> HealthScores:
    return HealthScores(
        bodily_functions=6,
        mental_wellbeing=4,
        meaningfulness=6,
        quality_of_life=3,
        participation=5,
        daily_functioning=4,
    )


def signal_waiting_family(engine: Engine, say: Callable[[str], None] = print) -> UUID:
    """One more Kerkrade family, signalled by maternity care and left for the coordinator:
    the case `ks run --demo` offers to the HTTP API's first consent request."""
    rng = random.Random()  # noqa: S311 - demo data, not a secret
    org = "kraamzorg-parkstad"
    key = f"{org}#{uuid4()}"
    today = engine.referrals.clock().date()
    sig = Signal(
        signal_key=key,
        municipality="GM0928",
        person_pseudonym=engine.pseudonymise(demo_bsn(rng)),
        reporter=Reporter(organisation=org, role=ReporterRole.MATERNITY_CARE),
        phase=PhaseInfo(phase=Phase.POSTNATAL, date=today - timedelta(days=10)),
        risk_factors=(RiskFactor.SOCIAL_ISOLATION, RiskFactor.STRESS),
        urgency=Urgency.SOON,
        personal=PersonalDetails(name="Demo Ouder", note="demo"),
    )
    ctx = c.Context(actor=Actor(organisation=org, role=ActorRole.PARTNER), causation_id=key)
    outcome = engine.referrals.receive_signal(sig, ctx)
    assert outcome.case_id is not None
    say(f"Family C: signalled by maternity care, waiting for a consent request: {outcome.case_id}")
    return outcome.case_id
