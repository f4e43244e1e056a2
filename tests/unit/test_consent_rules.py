"""Consent rules: no discussion or support match without the family's consent, except after
an escalation under the Meldcode; scope, expiry, declining and withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import ConsentRequiredError, IllegalTransitionError, InvalidValueError
from domain.escalation import EscalationPurpose
from domain.lifecycle import Action, State
from domain.values import HealthScores, MeldcodeStep
from tests.conftest import FixedClock
from tests.referral_builders import (
    COORDINATOR,
    DEBTS,
    HOUSING,
    JGZ,
    VEILIG_THUIS,
    decline,
    discuss,
    escalate,
    give,
    match,
    new_case,
    request,
    withdraw,
)


def test_discussion_before_consent_is_refused(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())

    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock())

    assert str(refused.value) == (
        f"cannot record a discussion for case {case.id}: the family has not consented "
        "(state: consent_requested)"
    )


def test_consent_scope_must_cover_every_participant(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), scope=(JGZ, DEBTS))

    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock(), participants=(JGZ, HOUSING, "zz-unknown"))

    assert str(refused.value) == (
        f"cannot record a discussion for case {case.id}: the family's consent does not cover "
        f"{HOUSING}, zz-unknown (state: consented)"
    )
    discuss(case, clock(), participants=(JGZ, DEBTS))
    assert case.state is State.DISCUSSED
    assert case.discussions[0]["participants"] == sorted([JGZ, DEBTS])


def test_consent_scope_must_cover_the_provider_of_the_support(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), scope=(JGZ,))
    discuss(case, clock(), participants=(JGZ,))

    with pytest.raises(ConsentRequiredError) as refused:
        match(case, clock(), provider=DEBTS)

    assert str(refused.value) == (
        f"cannot match support for case {case.id}: the family's consent does not cover "
        f"{DEBTS} (state: discussed)"
    )
    match(case, clock(), provider=JGZ)
    assert case.state is State.SUPPORT_MATCHED


def test_expired_consent_is_refused(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), days=3)  # expires on Thursday
    discuss(case, clock())

    # Friday: the consent expired the day before.
    clock.advance(days=4)
    assert not case.consent_is_active(clock().date())
    with pytest.raises(ConsentRequiredError) as refused:
        match(case, clock())
    assert str(refused.value) == (
        f"cannot match support for case {case.id}: the family's consent has expired "
        "(state: discussed)"
    )
    with pytest.raises(ConsentRequiredError, match="consent has expired"):
        discuss(case, clock())


def test_consent_is_active_up_to_and_including_its_expiry_date(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), days=3)
    expiry = clock().date() + timedelta(days=3)

    assert case.consent_is_active(expiry)
    assert not case.consent_is_active(expiry + timedelta(days=1))
    clock.advance(days=3)
    discuss(case, clock())
    assert case.state is State.DISCUSSED


def test_a_discussion_dated_before_the_consent_is_refused(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    clock.advance(days=2)
    give(case, clock())

    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock(), on=clock().date() - timedelta(days=1))

    assert str(refused.value) == (
        f"cannot record a discussion for case {case.id}: the discussion date lies before the "
        "family consented (state: consented)"
    )
    discuss(case, clock(), on=clock().date())
    assert case.state is State.DISCUSSED


def test_consent_needs_a_scope_and_an_expiry_not_in_the_past(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())

    with pytest.raises(InvalidValueError, match="scope must name at least one partner"):
        give(case, clock(), scope=())
    with pytest.raises(InvalidValueError, match="expiry date lies in the past"):
        give(case, clock(), days=-1)
    assert case.state is State.CONSENT_REQUESTED
    give(case, clock(), days=0)  # expiring today is still valid today
    assert case.consent == {
        "status": "given",
        "scope": sorted([JGZ, DEBTS]),
        "expires_on": clock().date(),
    }


def test_declined_consent_may_be_requested_again(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    decline(case, clock())
    assert case.consent is not None
    assert case.consent["status"] == "declined"
    with pytest.raises(ConsentRequiredError):
        discuss(case, clock())

    # The family is asked again a week later and now agrees.
    clock.advance(days=7)
    request(case, clock())
    assert case.consent == {"status": "requested", "scope": [], "expires_on": None}
    give(case, clock())
    discuss(case, clock())
    assert case.state is State.DISCUSSED


def test_an_expired_consent_is_renewed_by_asking_the_family_again(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), days=30)
    discuss(case, clock())
    clock.advance(days=31)
    with pytest.raises(ConsentRequiredError, match="consent has expired"):
        match(case, clock())

    request(case, clock())

    # Until the family answers, the case waits for it and no consent is active.
    assert case.state is State.CONSENT_REQUESTED
    assert case.consent == {"status": "requested", "scope": [], "expires_on": None}
    with pytest.raises(ConsentRequiredError, match=r"has not consented \(state: consent_requested"):
        discuss(case, clock())
    give(case, clock(), days=90)
    discuss(case, clock())
    match(case, clock())
    assert case.state is State.SUPPORT_MATCHED
    assert len(case.discussions) == 2


def test_consent_is_asked_again_to_widen_its_scope(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), scope=(JGZ, DEBTS))
    discuss(case, clock(), participants=(JGZ, DEBTS))
    with pytest.raises(ConsentRequiredError, match=f"does not cover {HOUSING}"):
        match(case, clock(), provider=HOUSING)

    request(case, clock())
    give(case, clock(), scope=(JGZ, DEBTS, HOUSING))
    discuss(case, clock(), participants=(JGZ, HOUSING))
    match(case, clock(), provider=HOUSING)

    assert case.state is State.SUPPORT_MATCHED
    assert case.consent is not None
    assert case.consent["scope"] == sorted([JGZ, DEBTS, HOUSING])


def test_withdrawal_stops_further_processing(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock())
    discuss(case, clock())
    match(case, clock())

    withdraw(case, clock())

    assert case.state is State.WITHDRAWN
    assert case.consent is not None
    assert case.consent["status"] == "withdrawn"
    assert not case.consent_is_active(clock().date())
    with pytest.raises(ConsentRequiredError, match=r"has not consented \(state: withdrawn\)"):
        discuss(case, clock())
    with pytest.raises(ConsentRequiredError, match=r"has not consented \(state: withdrawn\)"):
        match(case, clock())
    with pytest.raises(IllegalTransitionError, match="not allowed in state withdrawn"):
        request(case, clock())
    with pytest.raises(IllegalTransitionError, match="not allowed in state withdrawn"):
        withdraw(case, clock())


def test_escalation_is_the_only_way_past_consent(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    decline(case, clock())

    escalate(case, clock(), organisations=(HOUSING, VEILIG_THUIS))

    # The organisations the escalation names may take part and be matched: its legal basis
    # replaces consent for them.
    discuss(case, clock(), participants=(HOUSING, VEILIG_THUIS))
    match(case, clock(), provider=HOUSING)
    assert case.state is State.SUPPORT_MATCHED
    assert case.is_escalated
    assert case.escalations[0]["legal_basis"] == "Wmo 2015 art. 5.2.6"
    assert case.escalations[0]["organisations"] == [VEILIG_THUIS, HOUSING]
    assert case.escalations[0]["purpose"] == "support"


def test_escalation_lifts_consent_only_for_the_organisations_it_names(clock: FixedClock) -> None:
    # Given a family that declined, and an escalation naming Veilig Thuis only
    case = new_case(clock())
    request(case, clock())
    decline(case, clock())
    escalate(case, clock(), organisations=(VEILIG_THUIS,))

    # When JGZ is to take part as well, the discussion is refused and names JGZ
    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock(), participants=(VEILIG_THUIS, JGZ))
    assert str(refused.value) == (
        f"cannot record a discussion for case {case.id}: the family has not consented; "
        f"the escalation does not name {JGZ} (state: escalated)"
    )
    assert refused.value.missing == (JGZ,)
    assert case.state is State.ESCALATED

    # With Veilig Thuis alone it goes ahead
    discuss(case, clock(), participants=(VEILIG_THUIS,))
    assert case.state is State.DISCUSSED


def test_escalation_for_a_discussion_does_not_lift_consent_for_support(
    clock: FixedClock,
) -> None:
    case = new_case(clock())
    escalate(case, clock(), organisations=(DEBTS,), purpose=EscalationPurpose.DISCUSSION)
    discuss(case, clock(), participants=(DEBTS,))

    with pytest.raises(ConsentRequiredError) as refused:
        match(case, clock(), provider=DEBTS)

    assert "the escalation does not name" in str(refused.value)
    assert refused.value.missing == (DEBTS,)
    assert case.state is State.DISCUSSED


def test_consent_and_escalation_together_cover_their_organisations(clock: FixedClock) -> None:
    # Given consent for JGZ and debt counselling, then an escalation naming Veilig Thuis
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), scope=(JGZ, DEBTS))
    escalate(case, clock(), organisations=(VEILIG_THUIS,), purpose=EscalationPurpose.DISCUSSION)

    # Then a discussion with all three goes ahead, but not with the housing consultant
    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock(), participants=(JGZ, VEILIG_THUIS, HOUSING))
    assert str(refused.value) == (
        f"cannot record a discussion for case {case.id}: the family's consent does not cover "
        f"{HOUSING} and no escalation names it (state: escalated)"
    )
    assert refused.value.missing == (HOUSING,)
    discuss(case, clock(), participants=(JGZ, VEILIG_THUIS, DEBTS))
    assert case.state is State.DISCUSSED
    assert case.shares_with(VEILIG_THUIS, Action.RECORD_DISCUSSION, clock().date())
    assert not case.shares_with(VEILIG_THUIS, Action.MATCH_SUPPORT, clock().date())
    assert case.shares_with(DEBTS, Action.MATCH_SUPPORT, clock().date())
    assert not case.shares_with(HOUSING, Action.RECORD_DISCUSSION, clock().date())


def test_an_escalation_does_not_reach_back_before_its_day(clock: FixedClock) -> None:
    case = new_case(clock())
    escalate(case, clock(), organisations=(VEILIG_THUIS,))

    with pytest.raises(ConsentRequiredError):
        discuss(case, clock(), participants=(VEILIG_THUIS,), on=clock().date() - timedelta(days=1))
    assert case.state is State.ESCALATED


def test_a_further_escalation_names_more_organisations(clock: FixedClock) -> None:
    case = new_case(clock())
    escalate(case, clock(), organisations=(VEILIG_THUIS,), purpose=EscalationPurpose.DISCUSSION)
    with pytest.raises(ConsentRequiredError):
        discuss(case, clock(), participants=(VEILIG_THUIS, JGZ))

    escalate(case, clock(), organisations=(JGZ,), purpose=EscalationPurpose.DISCUSSION)

    discuss(case, clock(), participants=(VEILIG_THUIS, JGZ))
    assert [e["organisations"] for e in case.escalations] == [[VEILIG_THUIS], [JGZ]]


def test_an_escalation_from_before_scoping_lifts_nothing_new(clock: FixedClock) -> None:
    # An Escalated event stored before escalations named organisations and a purpose
    case = new_case(clock())
    case._escalated(
        meldcode_step="decide",
        legal_basis="Wmo 2015 art. 5.2.6",
        justification="acute onveiligheid na afweging",
        actor=COORDINATOR.model_dump(mode="json"),
        occurred_at=clock(),
        causation_id="old",
    )
    assert case.escalations[0]["organisations"] == []

    with pytest.raises(ConsentRequiredError) as refused:
        discuss(case, clock(), participants=(VEILIG_THUIS,))
    assert refused.value.missing == (VEILIG_THUIS,)


def test_an_escalation_names_the_organisations_involved(clock: FixedClock) -> None:
    case = new_case(clock())

    with pytest.raises(InvalidValueError) as refused:
        escalate(case, clock(), organisations=(" ",))

    assert "name the organisations involved" in str(refused.value)
    assert not case.is_escalated


def test_without_given_consent_there_is_nothing_to_withdraw(clock: FixedClock) -> None:
    case = new_case(clock())
    escalate(case, clock())
    discuss(case, clock())

    with pytest.raises(ConsentRequiredError) as refused:
        withdraw(case, clock())

    assert str(refused.value) == (
        f"cannot record withdrawal of consent for case {case.id}: there is no given consent "
        "to withdraw (state: discussed)"
    )


@pytest.mark.parametrize(
    ("legal_basis", "justification"),
    [("", "acute onveiligheid na afweging"), ("Wmo 2015 art. 5.2.6", "kort"), ("  ", "  ")],
)
def test_escalation_needs_legal_basis_and_justification(
    clock: FixedClock, legal_basis: str, justification: str
) -> None:
    case = new_case(clock())

    with pytest.raises(InvalidValueError) as refused:
        case.escalate(
            meldcode_step=MeldcodeStep.WEIGH,
            legal_basis=legal_basis,
            justification=justification,
            organisations=[VEILIG_THUIS],
            purpose=EscalationPurpose.DISCUSSION,
            actor=COORDINATOR,
            at=clock(),
            causation_id="esc",
        )

    assert str(refused.value).startswith(f"cannot escalate case {case.id}: an escalation needs")
    assert case.state is State.SIGNALLED
    assert not case.is_escalated


def test_a_discussion_needs_participants_and_a_date_not_in_the_future(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock())

    with pytest.raises(InvalidValueError, match="name the participating organisations"):
        discuss(case, clock(), participants=())
    with pytest.raises(InvalidValueError, match="its date lies in the future"):
        discuss(case, clock(), on=clock().date() + timedelta(days=1))
    assert case.discussions == []


def test_support_needs_an_offer_and_a_lead_professional(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock())
    discuss(case, clock())

    def attempt(offers: list[dict[str, str]], lead: str) -> None:
        case.match_support(
            offers=offers,
            lead_professional=lead,
            planned_start=clock().date(),
            actor=COORDINATOR,
            at=clock(),
            causation_id="m",
        )

    with pytest.raises(InvalidValueError, match="choose at least one offer"):
        attempt([], "JGZ-verpleegkundige")
    with pytest.raises(InvalidValueError, match="name the lead professional"):
        attempt([{"offer_id": "schuldhulpverlening", "provider": DEBTS}], "   ")
    assert case.support == []


def test_scores_outside_zero_to_ten_are_invalid() -> None:
    with pytest.raises(ValueError, match="less than or equal to 10"):
        HealthScores(
            bodily_functions=11,
            mental_wellbeing=5,
            meaningfulness=5,
            quality_of_life=5,
            participation=5,
            daily_functioning=5,
        )
