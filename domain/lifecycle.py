"""The referral lifecycle: one table of states and transitions.

The table is checked through a module-level ``transitions`` machine that serves only as a
specification. It is never attached to an aggregate: bound callables would leak into
snapshots and deep copies.
"""

from __future__ import annotations

from enum import StrEnum

from transitions import Machine


class State(StrEnum):
    """Where a referral stands in the Knooppunt's process."""

    SIGNALLED = "signalled"
    CONSENT_REQUESTED = "consent_requested"
    CONSENTED = "consented"
    CONSENT_DECLINED = "consent_declined"
    DISCUSSED = "discussed"
    SUPPORT_MATCHED = "support_matched"
    SUPPORT_STARTED = "support_started"
    EVALUATED = "evaluated"
    ESCALATED = "escalated"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class Action(StrEnum):
    """Commands that move a referral; the value is the trigger name in the specification."""

    ADD_SIGNAL = "add_signal"
    REQUEST_CONSENT = "request_consent"
    GIVE_CONSENT = "give_consent"
    DECLINE_CONSENT = "decline_consent"
    WITHDRAW_CONSENT = "withdraw_consent"
    RECORD_DISCUSSION = "record_discussion"
    MATCH_SUPPORT = "match_support"
    ESCALATE = "escalate"
    CLOSE = "close"
    # The household (issue: the family and who they are)
    RECORD_BIRTH = "record_birth"
    MERGE = "merge"  # this case takes in another case of the same household
    MERGE_INTO = "merge_into"  # this case is taken into another: it closes, its history kept
    # After the match (issue 17): the support began, was evaluated; a closed case reopened.
    START_SUPPORT = "start_support"
    RECORD_EVALUATION = "record_evaluation"
    REOPEN = "reopen"
    # Deadlines that can wait: the clock of the current step stops, goes on, or moves.
    SUSPEND_DEADLINE = "suspend_deadline"
    RESUME_DEADLINE = "resume_deadline"
    EXTEND_DEADLINE = "extend_deadline"
    # The family's rights (AVG art. 16): a signal about the wrong person is retracted, and
    # personal details are corrected; both in any state, the case otherwise as it stood.
    RETRACT_SIGNAL = "retract_signal"
    CORRECT_PERSONAL_DETAILS = "correct_personal_details"
    # Moving house: a transfer is asked for, then accepted or refused by the receiving
    # Knooppunt; the case goes on where it stood, in the other municipality.
    REQUEST_TRANSFER = "request_transfer"
    ACCEPT_TRANSFER = "accept_transfer"
    REFUSE_TRANSFER = "refuse_transfer"
    # Who owns a case: it is assigned to a coordinator of its municipality (or taken).
    ASSIGN = "assign"


S = State
OPEN_STATES: tuple[State, ...] = tuple(s for s in State if s is not S.CLOSED)
KEEP = "="  # reflexive: the state does not change
# States after the match: support agreed, begun, evaluated.
AFTER_MATCH: tuple[State, ...] = (S.SUPPORT_MATCHED, S.SUPPORT_STARTED, S.EVALUATED)

# (action, sources, destination). The one place the lifecycle is defined.
TRANSITIONS: tuple[tuple[Action, tuple[State, ...], str], ...] = (
    (Action.ADD_SIGNAL, OPEN_STATES, KEEP),
    # Consent is asked again after a refusal, and while consent is held: to renew one that
    # expired or to widen its scope to another partner (the case then waits for the answer).
    (
        Action.REQUEST_CONSENT,
        (S.SIGNALLED, S.CONSENT_DECLINED, S.CONSENTED, S.DISCUSSED, *AFTER_MATCH),
        S.CONSENT_REQUESTED,
    ),
    (Action.GIVE_CONSENT, (S.CONSENT_REQUESTED,), S.CONSENTED),
    (Action.DECLINE_CONSENT, (S.CONSENT_REQUESTED,), S.CONSENT_DECLINED),
    (Action.WITHDRAW_CONSENT, (S.CONSENTED, S.DISCUSSED, *AFTER_MATCH), S.WITHDRAWN),
    # A new discussion (re-discussion) is possible after the match too: new needs, new matches.
    (
        Action.RECORD_DISCUSSION,
        (S.CONSENTED, S.ESCALATED, S.DISCUSSED, *AFTER_MATCH),
        S.DISCUSSED,
    ),
    (Action.MATCH_SUPPORT, (S.DISCUSSED, S.SUPPORT_MATCHED), S.SUPPORT_MATCHED),
    # An escalation names its organisations and purpose; another may name more (or another).
    (Action.ESCALATE, OPEN_STATES, S.ESCALATED),
    (Action.CLOSE, OPEN_STATES, S.CLOSED),
    # The household: a birth or a merge leaves the state as it is; the merged case closes.
    (Action.RECORD_BIRTH, OPEN_STATES, KEEP),
    (Action.MERGE, OPEN_STATES, KEEP),
    (Action.MERGE_INTO, OPEN_STATES, S.CLOSED),
    (Action.START_SUPPORT, (S.SUPPORT_MATCHED,), S.SUPPORT_STARTED),
    (Action.RECORD_EVALUATION, (S.SUPPORT_STARTED, S.EVALUATED), S.EVALUATED),
    # Reopening opens a linked follow-up case; the closed case itself stays closed.
    (Action.REOPEN, (S.CLOSED,), KEEP),
    # A deadline waits or moves; the case stays where it stands.
    (Action.SUSPEND_DEADLINE, OPEN_STATES, KEEP),
    (Action.RESUME_DEADLINE, OPEN_STATES, KEEP),
    (Action.EXTEND_DEADLINE, OPEN_STATES, KEEP),
    # Correction (AVG art. 16) in every state, a closed case's too; retracting the last signal
    # then closes an open case (Closed, result signal_retracted).
    (Action.RETRACT_SIGNAL, tuple(State), KEEP),
    (Action.CORRECT_PERSONAL_DETAILS, tuple(State), KEEP),
    (Action.REQUEST_TRANSFER, OPEN_STATES, KEEP),
    (Action.ACCEPT_TRANSFER, OPEN_STATES, KEEP),
    (Action.REFUSE_TRANSFER, OPEN_STATES, KEEP),
    # An open case is assigned to a coordinator; its state stays.
    (Action.ASSIGN, OPEN_STATES, KEEP),
)

# States in which the family has not (or no longer) agreed to a discussion.
WITHOUT_CONSENT: frozenset[State] = frozenset(
    {S.SIGNALLED, S.CONSENT_REQUESTED, S.CONSENT_DECLINED, S.WITHDRAWN}
)

SPECIFICATION = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {"trigger": a.value, "source": [s.value for s in src], "dest": str(dest)}
        for a, src, dest in TRANSITIONS
    ],
    initial=S.SIGNALLED.value,
    auto_transitions=False,
)


def allowed_actions(state: State) -> list[Action]:
    """The actions the specification allows in ``state``, in table order."""
    triggers = set(SPECIFICATION.get_triggers(state.value))
    return [a for a in Action if a.value in triggers]


def next_state(state: State, action: Action) -> State | None:
    """The state after ``action`` in ``state``, or None when the specification forbids it."""
    found = SPECIFICATION.get_transitions(trigger=action.value, source=state.value)
    if not found:
        return None
    dest = found[0].dest
    return state if dest in (None, KEEP, state.value) else State(dest)


def mermaid() -> str:
    """The state diagram of the specification as a mermaid ``stateDiagram-v2``."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.SIGNALLED.value}"]
    for action, sources, dest in TRANSITIONS:
        for src in sources:
            target = src.value if dest == KEEP else dest
            lines.append(f"    {src.value} --> {target}: {action.value}")
    lines.append(f"    {S.CLOSED.value} --> [*]")
    return "\n".join(lines) + "\n"
