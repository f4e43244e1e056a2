"""Every transition of the referral lifecycle, allowed or refused, on the aggregate itself.

The expected lifecycle is written out here by hand, independently of ``domain.lifecycle``, so
a change to the specification table shows up as a failing test and a conscious decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from domain.errors import CaseClosedError, ConsentRequiredError, IllegalTransitionError
from domain.lifecycle import Action, State, allowed_actions, next_state
from domain.referral import Referral
from tests.conftest import FixedClock
from tests.referral_builders import (
    accept_transfer,
    add_signal,
    assign,
    birth,
    close,
    correct,
    decline,
    discuss,
    escalate,
    evaluate,
    extend_deadline,
    give,
    match,
    merge_into_other,
    merge_other_in,
    new_case,
    refuse_transfer,
    reopen,
    request,
    request_transfer,
    resume_deadline,
    retract,
    start,
    suspend_deadline,
    withdraw,
)

A, S = Action, State

EXPECTED: dict[State, dict[Action, State]] = {
    S.SIGNALLED: {
        A.ADD_SIGNAL: S.SIGNALLED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.CONSENT_REQUESTED: {
        A.ADD_SIGNAL: S.CONSENT_REQUESTED,
        A.GIVE_CONSENT: S.CONSENTED,
        A.DECLINE_CONSENT: S.CONSENT_DECLINED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.CONSENTED: {
        A.ADD_SIGNAL: S.CONSENTED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.WITHDRAW_CONSENT: S.WITHDRAWN,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.CONSENT_DECLINED: {
        A.ADD_SIGNAL: S.CONSENT_DECLINED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.DISCUSSED: {
        A.ADD_SIGNAL: S.DISCUSSED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.WITHDRAW_CONSENT: S.WITHDRAWN,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.MATCH_SUPPORT: S.SUPPORT_MATCHED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.SUPPORT_MATCHED: {
        A.ADD_SIGNAL: S.SUPPORT_MATCHED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.WITHDRAW_CONSENT: S.WITHDRAWN,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.MATCH_SUPPORT: S.SUPPORT_MATCHED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
        A.START_SUPPORT: S.SUPPORT_STARTED,
    },
    S.SUPPORT_STARTED: {
        A.ADD_SIGNAL: S.SUPPORT_STARTED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.WITHDRAW_CONSENT: S.WITHDRAWN,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
        A.RECORD_EVALUATION: S.EVALUATED,
    },
    S.EVALUATED: {
        A.ADD_SIGNAL: S.EVALUATED,
        A.REQUEST_CONSENT: S.CONSENT_REQUESTED,
        A.WITHDRAW_CONSENT: S.WITHDRAWN,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
        A.RECORD_EVALUATION: S.EVALUATED,
    },
    S.ESCALATED: {
        A.ADD_SIGNAL: S.ESCALATED,
        A.RECORD_DISCUSSION: S.DISCUSSED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.WITHDRAWN: {A.ADD_SIGNAL: S.WITHDRAWN, A.ESCALATE: S.ESCALATED, A.CLOSE: S.CLOSED},
    S.CLOSED: {A.REOPEN: S.CLOSED},
}
# The household: a birth or a merge is recorded in every open state; the merged case closes.
for _state, _actions in EXPECTED.items():
    if _state is not S.CLOSED:
        _actions.update({A.RECORD_BIRTH: _state, A.MERGE: _state, A.MERGE_INTO: S.CLOSED})
        # Deadlines that can wait: the case stays where it stands.
        _actions.update({a: _state for a in (A.SUSPEND_DEADLINE, A.RESUME_DEADLINE)})
        _actions[A.EXTEND_DEADLINE] = _state
        # Moving house: asked, accepted or refused; the case stays where it stands.
        _actions.update({a: _state for a in (A.REQUEST_TRANSFER, A.ACCEPT_TRANSFER)})
        _actions[A.REFUSE_TRANSFER] = _state
        # Who owns a case: an open case is assigned, its state stays.
        _actions[A.ASSIGN] = _state
    # Correction (AVG art. 16) in every state, a closed case's too.
    _actions.update({A.RETRACT_SIGNAL: _state, A.CORRECT_PERSONAL_DETAILS: _state})

PHRASE = {
    A.ADD_SIGNAL: "add a signal",
    A.REQUEST_CONSENT: "request consent",
    A.GIVE_CONSENT: "record consent",
    A.DECLINE_CONSENT: "record that consent was declined",
    A.WITHDRAW_CONSENT: "record withdrawal of consent",
    A.RECORD_DISCUSSION: "record a discussion",
    A.MATCH_SUPPORT: "match support",
    A.ESCALATE: "escalate",
    A.CLOSE: "close the case",
    A.RECORD_BIRTH: "record the birth",
    A.MERGE: "merge cases",
    A.MERGE_INTO: "merge this case into another",
    A.START_SUPPORT: "record that support started",
    A.RECORD_EVALUATION: "record an evaluation",
    A.REOPEN: "reopen the case",
    A.SUSPEND_DEADLINE: "suspend the deadline",
    A.RESUME_DEADLINE: "resume the deadline",
    A.EXTEND_DEADLINE: "extend the deadline",
    A.RETRACT_SIGNAL: "retract a signal",
    A.CORRECT_PERSONAL_DETAILS: "correct the personal details",
    A.REQUEST_TRANSFER: "ask to transfer the case",
    A.ACCEPT_TRANSFER: "accept the transfer",
    A.REFUSE_TRANSFER: "refuse the transfer",
    A.ASSIGN: "assign the case",
}

EVENT = {
    A.ADD_SIGNAL: "SignalAdded",
    A.REQUEST_CONSENT: "ConsentRequested",
    A.GIVE_CONSENT: "ConsentGiven",
    A.DECLINE_CONSENT: "ConsentDeclined",
    A.WITHDRAW_CONSENT: "ConsentWithdrawn",
    A.RECORD_DISCUSSION: "Discussed",
    A.MATCH_SUPPORT: "SupportMatched",
    A.ESCALATE: "Escalated",
    A.CLOSE: "Closed",
    A.RECORD_BIRTH: "ChildBorn",
    A.MERGE: "CasesMerged",
    A.MERGE_INTO: "CasesMerged",
    A.START_SUPPORT: "SupportStarted",
    A.RECORD_EVALUATION: "Evaluated",
    A.REOPEN: "Reopened",
    A.SUSPEND_DEADLINE: "DeadlineSuspended",
    A.RESUME_DEADLINE: "DeadlineResumed",
    A.EXTEND_DEADLINE: "DeadlineExtended",
    A.RETRACT_SIGNAL: "SignalRetracted",
    A.CORRECT_PERSONAL_DETAILS: "PersonalDetailsCorrected",
    A.REQUEST_TRANSFER: "TransferRequested",
    A.ACCEPT_TRANSFER: "CaseTransferred",
    A.REFUSE_TRANSFER: "TransferRefused",
    A.ASSIGN: "Assigned",
}

Step = Callable[[Referral, datetime], None]
COMMAND: dict[Action, Step] = {
    A.ADD_SIGNAL: add_signal,
    A.REQUEST_CONSENT: request,
    A.GIVE_CONSENT: give,
    A.DECLINE_CONSENT: decline,
    A.WITHDRAW_CONSENT: withdraw,
    A.RECORD_DISCUSSION: discuss,
    A.MATCH_SUPPORT: match,
    A.ESCALATE: escalate,
    A.CLOSE: close,
    A.RECORD_BIRTH: birth,
    A.MERGE: merge_other_in,
    A.MERGE_INTO: merge_into_other,
    A.START_SUPPORT: start,
    A.RECORD_EVALUATION: evaluate,
    A.REOPEN: reopen,
    A.SUSPEND_DEADLINE: suspend_deadline,
    A.RESUME_DEADLINE: resume_deadline,
    A.EXTEND_DEADLINE: extend_deadline,
    A.RETRACT_SIGNAL: retract,
    A.CORRECT_PERSONAL_DETAILS: correct,
    A.REQUEST_TRANSFER: request_transfer,
    A.ACCEPT_TRANSFER: accept_transfer,
    A.REFUSE_TRANSFER: refuse_transfer,
    A.ASSIGN: assign,
}

# The shortest way from a new case to each state.
PATH: dict[State, list[Step]] = {
    S.SIGNALLED: [],
    S.CONSENT_REQUESTED: [request],
    S.CONSENTED: [request, give],
    S.CONSENT_DECLINED: [request, decline],
    S.DISCUSSED: [request, give, discuss],
    S.SUPPORT_MATCHED: [request, give, discuss, match],
    S.SUPPORT_STARTED: [request, give, discuss, match, start],
    S.EVALUATED: [request, give, discuss, match, start, evaluate],
    S.ESCALATED: [escalate],
    S.WITHDRAWN: [request, give, withdraw],
    S.CLOSED: [close],
}

WITHOUT_CONSENT = {S.SIGNALLED, S.CONSENT_REQUESTED, S.CONSENT_DECLINED, S.WITHDRAWN}

# A resumption needs a suspension first (two events): tests/unit/test_deadline_holds.py; an
# answer to a transfer needs the request first: tests/unit/test_transfer.py.
TWO_STEPS = {A.RESUME_DEADLINE, A.ACCEPT_TRANSFER, A.REFUSE_TRANSFER}
ALLOWED = [(s, a) for s in State for a in Action if a in EXPECTED[s] and a not in TWO_STEPS]
REFUSED = [(s, a) for s in State for a in Action if a not in EXPECTED[s]]


def case_in(state: State, clock: FixedClock) -> Referral:
    case = new_case(clock())
    for step in PATH[state]:
        step(case, clock())
    assert case.state is state
    return case


def test_the_specification_table_is_the_expected_lifecycle() -> None:
    for state in State:
        assert allowed_actions(state) == [a for a in Action if a in EXPECTED[state]]
        for action in Action:
            assert next_state(state, action) == EXPECTED[state].get(action)


@pytest.mark.parametrize(("state", "action"), ALLOWED, ids=lambda v: str(v))
def test_allowed_transition_records_its_event(
    state: State, action: Action, clock: FixedClock
) -> None:
    case = case_in(state, clock)
    before = case.version

    COMMAND[action](case, clock())

    # One event of the action's name, carrying actor, time and cause; the state follows the table.
    assert case.state is EXPECTED[state][action]
    assert case.version == before + 1
    last = case.pending_events[-1]
    assert type(last).__name__ == EVENT[action]
    assert type(last).__qualname__.split(".")[0] in {k.__name__ for k in Referral.__mro__}
    assert last.originator_version == case.version
    assert last.actor["organisation"]  # type: ignore[attr-defined]
    assert last.occurred_at == clock()  # type: ignore[attr-defined]
    assert last.causation_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=lambda v: str(v))
def test_refused_transition_names_case_action_and_state(
    state: State, action: Action, clock: FixedClock
) -> None:
    case = case_in(state, clock)
    before = case.version
    pending = len(case.pending_events)
    head = f"cannot {PHRASE[action]} for case {case.id}"

    with pytest.raises(IllegalTransitionError) as refused:
        COMMAND[action](case, clock())

    if state is S.CLOSED:
        assert type(refused.value) is CaseClosedError
        assert str(refused.value) == f"{head}: the case is closed (state: closed)"
    elif action in (A.RECORD_DISCUSSION, A.MATCH_SUPPORT) and state in WITHOUT_CONSENT:
        assert type(refused.value) is ConsentRequiredError
        assert str(refused.value) == f"{head}: the family has not consented (state: {state})"
    else:
        assert type(refused.value) is IllegalTransitionError
        allowed = ", ".join(a.value for a in Action if a in EXPECTED[state])
        assert str(refused.value) == (
            f"{head}: not allowed in state {state}; allowed now: {allowed}"
        )
    assert refused.value.state == state.value
    assert refused.value.allowed == [a.value for a in Action if a in EXPECTED[state]]
    # A refusal changes nothing.
    assert case.version == before
    assert len(case.pending_events) == pending
    assert case.state is state


def test_a_new_case_is_signalled_with_actor_time_and_cause(clock: FixedClock) -> None:
    case = new_case(clock())

    created = case.pending_events[0]
    assert type(created).__qualname__ == "Referral.Signalled"
    assert isinstance(created, Referral.Signalled)
    assert created.actor == {
        "organisation": "verloskunde-parkstad",
        "role": "partner",
        "user_ref": "m-1",
    }
    assert created.occurred_at == clock()
    assert created.causation_id == "sig-1"
    assert case.version == 1
    assert case.state is S.SIGNALLED
    # The case keeps codes and dates of the signal, never the BSN.
    assert "111222333" not in repr(case.__dict__)
