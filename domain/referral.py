"""The Referral aggregate: one family's case at the Knooppunt (*aanmelding bij het Knooppunt*).

Command methods check the lifecycle specification and the consent rules, then trigger an
event. Event bodies only assign state: they re-run on every replay.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    CaseClosedError,
    ConsentRequiredError,
    IllegalTransitionError,
    InvalidValueError,
)
from domain.lifecycle import WITHOUT_CONSENT, Action, State, allowed_actions, next_state
from domain.values import (
    Actor,
    HealthScores,
    MeldcodeStep,
    Need,
    Outcome,
    Signal,
)

Json = dict[str, Any]

_PHRASES: dict[Action, str] = {
    Action.ADD_SIGNAL: "add a signal",
    Action.REQUEST_CONSENT: "request consent",
    Action.GIVE_CONSENT: "record consent",
    Action.DECLINE_CONSENT: "record that consent was declined",
    Action.WITHDRAW_CONSENT: "record withdrawal of consent",
    Action.RECORD_DISCUSSION: "record a discussion",
    Action.MATCH_SUPPORT: "match support",
    Action.ESCALATE: "escalate",
    Action.CLOSE: "close the case",
}


def _signal_record(signal: Signal) -> Json:
    """What a case keeps of one signal: codes and dates, no direct identifiers."""
    return {
        "signal_key": signal.signal_key,
        "reporter": signal.reporter.model_dump(mode="json"),
        "phase": signal.phase.phase.value,
        "phase_date": signal.phase.date,
        "risk_factors": [r.value for r in signal.risk_factors],
        "urgency": signal.urgency.value,
    }


class Referral(Aggregate):
    """A referral of one person (and household) to the Knooppunt of a municipality."""

    # -- creation -----------------------------------------------------------------------
    @classmethod
    def signal(cls, signal: Signal, *, actor: Actor, at: datetime, causation_id: str) -> Referral:
        """Open a case from a first signal."""
        return cls._create(
            cls.Signalled,
            municipality=signal.municipality,
            person_pseudonym=signal.person_pseudonym,
            signal=_signal_record(signal),
            personal=signal.personal.model_dump(mode="python", exclude_none=True),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    class Signalled(Aggregate.Created):
        municipality: str
        person_pseudonym: str
        signal: Json
        personal: Json
        actor: Json
        occurred_at: datetime
        causation_id: str

    def __init__(
        self,
        municipality: str,
        person_pseudonym: str,
        signal: Json,
        personal: Json,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.municipality = municipality
        self.person_pseudonym = person_pseudonym
        self.signals: list[Json] = [dict(signal, at=occurred_at)]
        self.personal: Json = dict(personal)
        self.state_value = State.SIGNALLED.value
        self.signalled_at = occurred_at
        self.last_activity_at = occurred_at
        self.milestones: dict[str, datetime] = {}
        self.consent: Json | None = None
        self.discussions: list[Json] = []
        self.support: list[Json] = []
        self.escalations: list[Json] = []
        self.outcome: Json | None = None

    # -- queries --------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return State(self.state_value)

    @property
    def is_open(self) -> bool:
        return self.state is not State.CLOSED

    @property
    def is_escalated(self) -> bool:
        return bool(self.escalations)

    @property
    def risk_factors(self) -> list[str]:
        """Every risk factor named in any signal, in first-seen order."""
        seen: dict[str, None] = {}
        for s in self.signals:
            seen.update(dict.fromkeys(s["risk_factors"]))
        return list(seen)

    @property
    def urgency(self) -> str:
        """The most urgent urgency any signal gave."""
        order = ["urgent", "soon", "routine"]
        urgencies: list[str] = [s["urgency"] for s in self.signals]
        return min(urgencies, key=order.index)

    def consent_is_active(self, on: date) -> bool:
        """Whether the family's consent is given and not expired or withdrawn on ``on``."""
        c = self.consent
        if c is None or c["status"] != "given":
            return False
        return c["expires_on"] is None or on <= c["expires_on"]

    def allowed_actions(self) -> list[Action]:
        """Actions the lifecycle allows now (consent rules may still refuse some)."""
        return allowed_actions(self.state)

    # -- guards ---------------------------------------------------------------------------
    def _check(self, action: Action) -> State:
        target = next_state(self.state, action)
        if target is not None:
            return target
        allowed = [a.value for a in self.allowed_actions()]
        head = f"cannot {_PHRASES[action]} for case {self.id}"
        if self.state is State.CLOSED:
            raise CaseClosedError(
                f"{head}: the case is closed (state: closed)", state="closed", allowed=allowed
            )
        if action in (Action.RECORD_DISCUSSION, Action.MATCH_SUPPORT) and (
            self.state in WITHOUT_CONSENT
        ):
            raise ConsentRequiredError(
                f"{head}: the family has not consented (state: {self.state.value})",
                state=self.state.value,
                allowed=allowed,
            )
        raise IllegalTransitionError(
            f"{head}: not allowed in state {self.state.value}; allowed now: "
            f"{', '.join(allowed) or 'nothing'}",
            state=self.state.value,
            allowed=allowed,
        )

    def _refuse_without_consent(self, action: Action, at: datetime, reason: str) -> None:
        raise ConsentRequiredError(
            f"cannot {_PHRASES[action]} for case {self.id}: {reason} (state: {self.state.value})",
            state=self.state.value,
            allowed=[a.value for a in self.allowed_actions()],
        )

    # -- commands -------------------------------------------------------------------------
    def add_signal(self, signal: Signal, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Add a further signal about the same person to this open case."""
        self._check(Action.ADD_SIGNAL)
        if signal.municipality != self.municipality or (
            signal.person_pseudonym != self.person_pseudonym
        ):
            raise InvalidValueError(
                f"cannot add a signal for case {self.id}: it is about another person or "
                "municipality"
            )
        self._signal_added(
            signal=_signal_record(signal),
            personal=signal.personal.model_dump(mode="python", exclude_none=True),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("SignalAdded")
    def _signal_added(
        self, signal: Json, personal: Json, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.signals.append(dict(signal, at=occurred_at))
        self.personal.update(personal)
        self.last_activity_at = occurred_at

    def request_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family was asked for consent to discuss them at the Knooppunt."""
        self._check(Action.REQUEST_CONSENT)
        self._consent_requested(
            actor=actor.model_dump(mode="json"), occurred_at=at, causation_id=causation_id
        )

    @event("ConsentRequested")
    def _consent_requested(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.state_value = State.CONSENT_REQUESTED.value
        self.consent = {"status": "requested", "scope": [], "expires_on": None}
        self._touch("consent_requested", occurred_at)

    def give_consent(
        self,
        *,
        scope: list[str],
        expires_on: date | None,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record the family's consent for the partner organisations in ``scope``."""
        self._check(Action.GIVE_CONSENT)
        if not scope:
            raise InvalidValueError(
                f"cannot record consent for case {self.id}: the scope must name at least one "
                "partner organisation that may take part"
            )
        if expires_on is not None and expires_on < at.date():
            raise InvalidValueError(
                f"cannot record consent for case {self.id}: the expiry date lies in the past"
            )
        self._consent_given(
            scope=sorted(set(scope)),
            expires_on=expires_on,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("ConsentGiven")
    def _consent_given(
        self,
        scope: list[str],
        expires_on: date | None,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.CONSENTED.value
        self.consent = {"status": "given", "scope": list(scope), "expires_on": expires_on}
        self._touch("consented", occurred_at)

    def decline_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family declined; consent may be requested again later."""
        self._check(Action.DECLINE_CONSENT)
        self._consent_declined(
            actor=actor.model_dump(mode="json"), occurred_at=at, causation_id=causation_id
        )

    @event("ConsentDeclined")
    def _consent_declined(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.state_value = State.CONSENT_DECLINED.value
        self.consent = {"status": "declined", "scope": [], "expires_on": None}
        self._touch("consent_declined", occurred_at)

    def withdraw_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family withdrew consent: nothing new is shared from now on."""
        self._check(Action.WITHDRAW_CONSENT)
        if self.consent is None or self.consent["status"] != "given":
            self._refuse_without_consent(
                Action.WITHDRAW_CONSENT, at, "there is no given consent to withdraw"
            )
        self._consent_withdrawn(
            actor=actor.model_dump(mode="json"), occurred_at=at, causation_id=causation_id
        )

    @event("ConsentWithdrawn")
    def _consent_withdrawn(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.state_value = State.WITHDRAWN.value
        assert self.consent is not None
        self.consent = dict(self.consent, status="withdrawn")
        self._touch("consent_withdrawn", occurred_at)

    def record_discussion(
        self,
        *,
        on: date,
        participants: list[str],
        scores: HealthScores,
        needs: list[Need],
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record the case discussion at the Knooppunt (*casusbespreking*)."""
        self._check(Action.RECORD_DISCUSSION)
        self._require_consent_for(Action.RECORD_DISCUSSION, at, on, participants)
        if not participants:
            raise InvalidValueError(
                f"cannot record a discussion for case {self.id}: name the participating "
                "organisations"
            )
        if on > at.date():
            raise InvalidValueError(
                f"cannot record a discussion for case {self.id}: its date lies in the future"
            )
        self._discussed(
            on=on,
            participants=sorted(set(participants)),
            scores=scores.model_dump(mode="json"),
            needs=[n.value for n in needs],
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("Discussed")
    def _discussed(
        self,
        on: date,
        participants: list[str],
        scores: Json,
        needs: list[str],
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.DISCUSSED.value
        self.discussions.append(
            {
                "on": on,
                "participants": list(participants),
                "scores": dict(scores),
                "needs": list(needs),
            }
        )
        self._touch("discussed", occurred_at)

    def match_support(
        self,
        *,
        offers: list[Json],
        lead_professional: str,
        planned_start: date,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record the agreed support: offers from the menukaart, provider and lead professional.

        ``offers`` are ``{"offer_id", "provider"}`` pairs already checked against the catalogue.
        """
        self._check(Action.MATCH_SUPPORT)
        self._require_consent_for(
            Action.MATCH_SUPPORT, at, at.date(), [o["provider"] for o in offers]
        )
        if not offers:
            raise InvalidValueError(
                f"cannot match support for case {self.id}: choose at least one offer"
            )
        if not lead_professional.strip():
            raise InvalidValueError(
                f"cannot match support for case {self.id}: name the lead professional"
            )
        self._support_matched(
            offers=[{"offer_id": o["offer_id"], "provider": o["provider"]} for o in offers],
            lead_professional=lead_professional.strip(),
            planned_start=planned_start,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("SupportMatched")
    def _support_matched(
        self,
        offers: list[Json],
        lead_professional: str,
        planned_start: date,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.SUPPORT_MATCHED.value
        self.support.append(
            {
                "offers": [dict(o) for o in offers],
                "lead_professional": lead_professional,
                "planned_start": planned_start,
            }
        )
        self._touch("support_matched", occurred_at)

    def escalate(
        self,
        *,
        meldcode_step: MeldcodeStep,
        legal_basis: str,
        justification: str,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Escalate under the Meldcode: act without (or beyond) consent, with justification."""
        self._check(Action.ESCALATE)
        if len(legal_basis.strip()) < 3 or len(justification.strip()) < 10:
            raise InvalidValueError(
                f"cannot escalate case {self.id}: an escalation needs its legal basis "
                "(e.g. 'Wmo 2015 art. 5.2.6') and a justification of at least 10 characters"
            )
        self._escalated(
            meldcode_step=meldcode_step.value,
            legal_basis=legal_basis.strip(),
            justification=justification.strip(),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("Escalated")
    def _escalated(
        self,
        meldcode_step: str,
        legal_basis: str,
        justification: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.ESCALATED.value
        self.escalations.append(
            {
                "meldcode_step": meldcode_step,
                "legal_basis": legal_basis,
                "justification": justification,
                "at": occurred_at,
            }
        )
        self._touch("escalated", occurred_at)

    def close(
        self, *, outcome: Outcome, reason: str, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """Close the case with its outcome (*resultaat*); closed is final."""
        self._check(Action.CLOSE)
        self._closed(
            outcome=outcome.value,
            reason=reason.strip(),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("Closed")
    def _closed(
        self, outcome: str, reason: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.state_value = State.CLOSED.value
        self.outcome = {"code": outcome, "reason": reason}
        self._touch("closed", occurred_at)

    # -- helpers --------------------------------------------------------------------------
    def _require_consent_for(
        self, action: Action, at: datetime, on: date, organisations: list[str]
    ) -> None:
        """Consent must be active and cover the organisations, unless the case was escalated."""
        if self.is_escalated:
            return
        if not self.consent_is_active(on):
            self._refuse_without_consent(action, at, "the family's consent has expired")
        assert self.consent is not None
        outside = sorted(set(organisations) - set(self.consent["scope"]))
        if outside:
            self._refuse_without_consent(
                action, at, f"the family's consent does not cover {', '.join(outside)}"
            )

    def _touch(self, milestone: str, at: datetime) -> None:
        self.milestones[milestone] = at
        self.last_activity_at = at
