"""The Referral aggregate: one family's case at the Knooppunt (*aanmelding bij het Knooppunt*).

Command methods check the lifecycle specification and the consent rules (``domain.guards``),
then trigger an event. Event bodies only assign state: they re-run on every replay.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import guards
from domain.after_match import AfterMatch
from domain.assignment import Assignable
from domain.case_opening import CaseOpening
from domain.case_queries import CaseQueries
from domain.consent_record import ConsentRecord
from domain.correction import Correctable
from domain.deadline_holds import DeadlineHolds
from domain.errors import InvalidValueError
from domain.escalation import EscalationPurpose
from domain.event_records import cause, signal_record, tagged
from domain.lifecycle import Action, State
from domain.redaction import redact_bsns
from domain.restriction import Restrictable
from domain.transfer import Transferable
from domain.values import Actor, HealthScores, MeldcodeStep, Need, Outcome, Signal

Json = dict[str, Any]


class Referral(
    CaseOpening,
    CaseQueries,
    Transferable,
    Correctable,
    Restrictable,
    DeadlineHolds,
    AfterMatch,
    Assignable,
):
    """A referral of one person (and household) to the Knooppunt of a municipality."""

    class Signalled(AfterMatch.Created):
        municipality: str
        person_pseudonym: str
        signal: Json
        personal: Json
        actor: Json
        occurred_at: datetime
        causation_id: str
        follows: str | None = None

    def __init__(
        self,
        municipality: str,
        person_pseudonym: str,
        signal: Json,
        personal: Json,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
        follows: str | None = None,
    ) -> None:
        self.municipality = municipality
        self.person_pseudonym = person_pseudonym
        self.signals: list[Json] = [dict(signal, at=occurred_at)]
        self.sealed_personal: list[Json] = [dict(personal)] if personal else []
        self.personal_erased: Json | None = None
        self.state_value = State.SIGNALLED.value
        self.signalled_at = occurred_at
        self.last_activity_at = occurred_at
        self.milestones: dict[str, datetime] = {}
        self.consent: Json | None = None
        self.discussions: list[Json] = []
        self.support: list[Json] = []
        self.escalations: list[Json] = []
        self.outcome: Json | None = None
        if follows is not None:
            self.follows = follows

    # -- commands -------------------------------------------------------------------------
    def add_signal(
        self,
        signal: Signal,
        *,
        actor: Actor,
        at: datetime,
        causation_id: str,
        sealed_personal: Json | None = None,
        related_cases: list[UUID] | None = None,
    ) -> None:
        """Add a further signal about a household member to this open case; ``related_cases``
        are other open cases of members the signal names (the coordinator may merge them)."""
        guards.check_transition(self.id, self.state, Action.ADD_SIGNAL)
        self.refuse_if_erased("add a signal")
        members = set(self.member_pseudonyms)
        named = {signal.person_pseudonym} | {m.pseudonym for m in signal.household if m.pseudonym}
        guards.check_same_person(
            self.id, signal.municipality == self.municipality and bool(named & members)
        )
        record = signal_record(signal, actor)
        if signal.person_pseudonym not in members:  # the other parent, found through the case
            record["household"] = [
                {"role": "co_parent", "pseudonym": signal.person_pseudonym, "due_date": None},
                *record.get("household", []),
            ]
        if related_cases:
            record["related_cases"] = [str(r) for r in related_cases if r != self.id]
        self._signal_added(
            signal=record,
            personal=tagged(sealed_personal, signal),
            **cause(actor, at, causation_id),
        )

    @event("SignalAdded")
    def _signal_added(
        self, signal: Json, personal: Json, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.signals.append(dict(signal, at=occurred_at))
        if personal:
            self.sealed_personal.append(dict(personal))
        self.last_activity_at = occurred_at

    def request_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family was asked for consent to discuss them at the Knooppunt: for
        the first time, again after declining, or again while consent is held (to renew an
        expired consent or widen its scope). Until the family answers, no consent is active."""
        guards.check_transition(self.id, self.state, Action.REQUEST_CONSENT)
        self._consent_requested(**cause(actor, at, causation_id))

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
        record: ConsentRecord | None = None,
    ) -> None:
        """Record the family's consent for the partner organisations in ``scope``; ``record``
        says who gave it, how, when and for which purpose."""
        scope = [redact_bsns(s) for s in scope]
        guards.check_transition(self.id, self.state, Action.GIVE_CONSENT)
        guards.check_consent(self.id, scope, expires_on, at)
        if record is not None and record.given_on > at.date():
            raise InvalidValueError(
                f"cannot record consent for case {self.id}: the day it was given lies in the future"
            )
        self._consent_given(
            scope=sorted(set(scope)),
            expires_on=expires_on,
            record=record.as_json() if record else None,
            **cause(actor, at, causation_id),
        )

    class ConsentGiven(AfterMatch.Event):
        """Consent given; ``record`` (who, how, when, purpose) is absent from older events."""

        scope: list[str]
        expires_on: date | None
        actor: Json
        occurred_at: datetime
        causation_id: str
        record: Json | None = None

    @event(ConsentGiven)
    def _consent_given(
        self,
        scope: list[str],
        expires_on: date | None,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
        record: Json | None = None,
    ) -> None:
        self.state_value = State.CONSENTED.value
        self.consent = {
            "status": "given",
            "scope": list(scope),
            "expires_on": expires_on,
            **({"record": dict(record)} if record else {}),
        }
        self._touch("consented", occurred_at)

    def decline_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family declined; consent may be requested again later."""
        guards.check_transition(self.id, self.state, Action.DECLINE_CONSENT)
        self._consent_declined(**cause(actor, at, causation_id))

    @event("ConsentDeclined")
    def _consent_declined(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.state_value = State.CONSENT_DECLINED.value
        self.consent = {"status": "declined", "scope": [], "expires_on": None}
        self._touch("consent_declined", occurred_at)

    def withdraw_consent(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Record that the family withdrew consent: nothing new is shared from now on."""
        guards.check_transition(self.id, self.state, Action.WITHDRAW_CONSENT)
        guards.require_given_consent(self.id, self.state, self.consent)
        self._consent_withdrawn(**cause(actor, at, causation_id))

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
        participants = [redact_bsns(p) for p in participants]
        guards.check_transition(self.id, self.state, Action.RECORD_DISCUSSION)
        self._require_consent(Action.RECORD_DISCUSSION, on, participants)
        guards.check_discussion(self.id, participants, on, at)
        self._discussed(
            on=on,
            participants=sorted(set(participants)),
            scores=scores.model_dump(mode="json"),
            needs=[n.value for n in needs],
            **cause(actor, at, causation_id),
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
        catalogue_version: str | None = None,
    ) -> None:
        """Record the agreed support: offers from the menukaart, provider and lead professional.

        ``offers`` are ``{"offer_id", "provider"}`` pairs already checked against the catalogue
        of ``catalogue_version`` (the menukaart's version the match was made from).
        """
        guards.check_transition(self.id, self.state, Action.MATCH_SUPPORT)
        self._require_consent(Action.MATCH_SUPPORT, at.date(), [o["provider"] for o in offers])
        guards.check_support(self.id, offers, lead_professional)
        self._support_matched(
            offers=[{"offer_id": o["offer_id"], "provider": o["provider"]} for o in offers],
            lead_professional=redact_bsns(lead_professional.strip()),
            planned_start=planned_start,
            catalogue_version=catalogue_version,
            **cause(actor, at, causation_id),
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
        catalogue_version: str | None = None,  # None in matches from before it was recorded
    ) -> None:
        self.state_value = State.SUPPORT_MATCHED.value
        self.support.append(
            {
                "offers": [dict(o) for o in offers],
                "catalogue_version": catalogue_version,
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
        organisations: list[str],
        purpose: EscalationPurpose,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Escalate under the Meldcode: act without (or beyond) consent, with justification,
        only with the ``organisations`` named and for ``purpose`` (``domain.escalation``)."""
        guards.check_transition(self.id, self.state, Action.ESCALATE)
        legal_basis, justification = redact_bsns(legal_basis), redact_bsns(justification)
        organisations = [redact_bsns(o).strip() for o in organisations if o.strip()]
        guards.check_escalation(self.id, legal_basis, justification, organisations)
        self._escalated(
            meldcode_step=meldcode_step.value,
            legal_basis=legal_basis.strip(),
            justification=justification.strip(),
            organisations=sorted(set(organisations)),
            purpose=purpose.value,
            **cause(actor, at, causation_id),
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
        organisations: list[str] | None = None,  # None in escalations from before scoping
        purpose: str | None = None,
    ) -> None:
        self.state_value = State.ESCALATED.value
        self.escalations.append(
            {
                "meldcode_step": meldcode_step,
                "legal_basis": legal_basis,
                "justification": justification,
                "organisations": list(organisations or []),
                "purpose": purpose,
                "at": occurred_at,
            }
        )
        self._touch("escalated", occurred_at)

    def close(
        self, *, outcome: Outcome, reason: str, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """Close the case with its outcome (*resultaat*); closed is final."""
        guards.check_transition(self.id, self.state, Action.CLOSE)
        self._closed(
            outcome=outcome.value,
            reason=redact_bsns(reason.strip()),
            **cause(actor, at, causation_id),
        )

    @event("Closed")
    def _closed(
        self, outcome: str, reason: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.state_value = State.CLOSED.value
        self.outcome = {"code": outcome, "reason": reason}
        self._touch("closed", occurred_at)

    # -- helpers --------------------------------------------------------------------------
    def _touch(self, milestone: str, at: datetime) -> None:
        self.milestones[milestone] = at
        self.last_activity_at = at
