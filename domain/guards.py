"""Guards of the Referral aggregate: the checks a command passes before its event is triggered.

Pure functions of a case's state and a command's inputs. A refusal raises a domain error whose
message names the case, the attempted action and, for lifecycle and consent refusals, the
current state, in words a coordinator understands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NoReturn
from uuid import UUID

from domain.errors import (
    CaseClosedError,
    ConsentRequiredError,
    IllegalTransitionError,
    InvalidValueError,
)
from domain.escalation import lifted_for, lifts
from domain.lifecycle import WITHOUT_CONSENT, Action, State, allowed_actions, next_state

Json = dict[str, Any]

PHRASES: dict[Action, str] = {
    Action.ADD_SIGNAL: "add a signal",
    Action.REQUEST_CONSENT: "request consent",
    Action.GIVE_CONSENT: "record consent",
    Action.DECLINE_CONSENT: "record that consent was declined",
    Action.WITHDRAW_CONSENT: "record withdrawal of consent",
    Action.RECORD_DISCUSSION: "record a discussion",
    Action.MATCH_SUPPORT: "match support",
    Action.ESCALATE: "escalate",
    Action.CLOSE: "close the case",
    Action.RECORD_BIRTH: "record the birth",
    Action.MERGE: "merge cases",
    Action.MERGE_INTO: "merge this case into another",
    Action.START_SUPPORT: "record that support started",
    Action.RECORD_EVALUATION: "record an evaluation",
    Action.REOPEN: "reopen the case",
    Action.SUSPEND_DEADLINE: "suspend the deadline",
    Action.RESUME_DEADLINE: "resume the deadline",
    Action.EXTEND_DEADLINE: "extend the deadline",
    Action.RETRACT_SIGNAL: "retract a signal",
    Action.CORRECT_PERSONAL_DETAILS: "correct the personal details",
    Action.REQUEST_TRANSFER: "ask to transfer the case",
    Action.ACCEPT_TRANSFER: "accept the transfer",
    Action.REFUSE_TRANSFER: "refuse the transfer",
    Action.ASSIGN: "assign the case",
}


def _allowed(state: State) -> list[str]:
    return [a.value for a in allowed_actions(state)]


def check_transition(case_id: UUID, state: State, action: Action) -> State:
    """The state ``action`` leads to, or the error that explains why the lifecycle forbids it."""
    target = next_state(state, action)
    if target is not None:
        return target
    allowed = _allowed(state)
    head = f"cannot {PHRASES[action]} for case {case_id}"
    if state is State.CLOSED:
        raise CaseClosedError(
            f"{head}: the case is closed (state: closed)", state="closed", allowed=allowed
        )
    if action in (Action.RECORD_DISCUSSION, Action.MATCH_SUPPORT) and state in WITHOUT_CONSENT:
        raise ConsentRequiredError(
            f"{head}: the family has not consented (state: {state.value})",
            state=state.value,
            allowed=allowed,
        )
    raise IllegalTransitionError(
        f"{head}: not allowed in state {state.value}; allowed now: "
        f"{', '.join(allowed) or 'nothing'}",
        state=state.value,
        allowed=allowed,
    )


def refuse_without_consent(
    case_id: UUID, state: State, action: Action, reason: str, missing: Iterable[str] = ()
) -> NoReturn:
    """Raise the consent refusal of ``action`` with ``reason``; ``missing``: the organisations
    that neither the consent nor an escalation names."""
    raise ConsentRequiredError(
        f"cannot {PHRASES[action]} for case {case_id}: {reason} (state: {state.value})",
        state=state.value,
        allowed=_allowed(state),
        missing=tuple(missing),
    )


def consent_is_active(consent: Json | None, on: date) -> bool:
    """Whether consent is given and neither expired nor withdrawn on ``on``."""
    if consent is None or consent["status"] != "given":
        return False
    return consent["expires_on"] is None or on <= consent["expires_on"]


def require_consent(
    case_id: UUID,
    state: State,
    action: Action,
    *,
    consent: Json | None,
    escalations: Sequence[Json],
    on: date,
    consented_on: date | None,
    organisations: Iterable[str],
) -> None:
    """Consent must be active on ``on`` and cover the organisations, except those an
    escalation names for this action (``domain.escalation``).

    ``on`` is the date of the discussion or support: a discussion dated before the family
    consented took place without consent, however late it is recorded.
    """
    named = set(organisations)
    if lifts(escalations, action, on, named):
        return
    rest = named - lifted_for(escalations, action, on)
    if escalations and rest:
        nor = f"; the escalation does not name {', '.join(sorted(rest))}"
    else:
        nor = ""
    if not consent_is_active(consent, on):
        given = consent is not None and consent["status"] == "given"
        why = "the family's consent has expired" if given else "the family has not consented"
        refuse_without_consent(case_id, state, action, f"{why}{nor}", sorted(rest))
    assert consent is not None
    if consented_on is not None and on < consented_on:
        what = "discussion" if action is Action.RECORD_DISCUSSION else "support"
        refuse_without_consent(
            case_id, state, action, f"the {what} date lies before the family consented{nor}"
        )
    outside = sorted(rest - set(consent["scope"]))
    if outside:
        who = ", ".join(outside)
        refuse_without_consent(
            case_id,
            state,
            action,
            f"the family's consent does not cover {who}"
            + (" and no escalation names it" if escalations else ""),
            outside,
        )


def require_given_consent(case_id: UUID, state: State, consent: Json | None) -> None:
    """Only a given consent can be withdrawn."""
    if consent is None or consent["status"] != "given":
        refuse_without_consent(
            case_id, state, Action.WITHDRAW_CONSENT, "there is no given consent to withdraw"
        )


# -- the command's own inputs ---------------------------------------------------------------
def check_same_person(case_id: UUID, same_person: bool) -> None:
    """A further signal must be about a member of the case's household, in its municipality."""
    if not same_person:
        raise InvalidValueError(
            f"cannot add a signal for case {case_id}: it is about another person or municipality"
        )


def check_consent(case_id: UUID, scope: list[str], expires_on: date | None, at: datetime) -> None:
    """Consent names at least one organisation and does not expire in the past."""
    if not scope:
        raise InvalidValueError(
            f"cannot record consent for case {case_id}: the scope must name at least one "
            "partner organisation that may take part"
        )
    if expires_on is not None and expires_on < at.date():
        raise InvalidValueError(
            f"cannot record consent for case {case_id}: the expiry date lies in the past"
        )


def check_discussion(case_id: UUID, participants: list[str], on: date, at: datetime) -> None:
    """A discussion names its participants and does not lie in the future."""
    if not participants:
        raise InvalidValueError(
            f"cannot record a discussion for case {case_id}: name the participating organisations"
        )
    if on > at.date():
        raise InvalidValueError(
            f"cannot record a discussion for case {case_id}: its date lies in the future"
        )


def check_support(case_id: UUID, offers: list[Json], lead_professional: str) -> None:
    """Support names at least one offer and a lead professional."""
    if not offers:
        raise InvalidValueError(
            f"cannot match support for case {case_id}: choose at least one offer"
        )
    if not lead_professional.strip():
        raise InvalidValueError(
            f"cannot match support for case {case_id}: name the lead professional"
        )


def check_escalation(
    case_id: UUID, legal_basis: str, justification: str, organisations: list[str]
) -> None:
    """An escalation under the Meldcode carries its legal basis, a justification and the
    organisations it involves."""
    if len(legal_basis.strip()) < 3 or len(justification.strip()) < 10:
        raise InvalidValueError(
            f"cannot escalate case {case_id}: an escalation needs its legal basis "
            "(e.g. 'Wmo 2015 art. 5.2.6') and a justification of at least 10 characters"
        )
    if not [o for o in organisations if o.strip()]:
        raise InvalidValueError(
            f"cannot escalate case {case_id}: name the organisations involved "
            "(e.g. Veilig Thuis); the escalation lifts the consent check for these only"
        )
