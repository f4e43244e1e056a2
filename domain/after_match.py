"""After the match (*na de match*): support that really started, its evaluation, reopening.

"Support matched" is a promise; these steps record what became of it. Command methods check
the lifecycle table (``domain.lifecycle``) and their own inputs before an event is triggered;
event bodies only assign state. Attributes default on the class so that snapshots taken
before these steps existed still load; events replace them, never mutate them in place.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain import guards
from domain.errors import InvalidValueError, NotInConsentScopeError
from domain.household_changes import HouseholdChanges
from domain.lifecycle import Action, State
from domain.redaction import redact_bsns
from domain.values import Actor, ActorRole, HealthScores, Need, Outcome

Json = dict[str, Any]


class NeedResult(StrEnum):
    """Whether a need found at the discussion was met by the support."""

    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


class NextStep(StrEnum):
    """What follows an evaluation."""

    CONTINUE = "continue"  # the support goes on; evaluate again later
    DISCUSS_AGAIN = "discuss_again"  # back to the Knooppunt: new discussion, new matches
    CLOSE = "close"  # the case can be closed


# The results (ZGW *resultaat*) a coordinator chooses from when closing a case.
CLOSING_RESULTS: tuple[Outcome, ...] = (
    Outcome.SUPPORT_COMPLETED,
    Outcome.FAMILY_DECLINED,
    Outcome.MOVED_AWAY,
    Outcome.NO_LONGER_NEEDED,
    Outcome.REFERRED_ELSEWHERE,
    Outcome.EXPIRED,
)

LABELS: dict[str, str] = {
    NeedResult.MET: "Behaald",
    NeedResult.PARTLY: "Deels behaald",
    NeedResult.NOT_MET: "Niet behaald",
    NextStep.CONTINUE: "Ondersteuning loopt door",
    NextStep.DISCUSS_AGAIN: "Opnieuw bespreken",
    NextStep.CLOSE: "Casus afsluiten",
}


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}


class AfterMatch(HouseholdChanges):
    """The case's steps after the support was matched."""

    if TYPE_CHECKING:  # set by the creation event (``domain.referral``)
        milestones: dict[str, datetime]
        consent: Json | None
        discussions: list[Json]
        support: list[Json]
        outcome: Json | None
        last_activity_at: datetime

        def _require_consent(self, action: Action, on: date, organisations: list[str]) -> None:
            """Consent must cover ``organisations`` on ``on`` (see ``domain.referral``)."""

        support_started: Json | None  # {"on", "lead_professional", "by", "at"}
        evaluations: list[Json]
        follows: str | None  # the earlier case this follow-up case continues
        followed_by: str | None  # the follow-up case opened when this one was reopened
    else:  # class defaults, not annotated: the aggregate's metaclass would make them fields
        support_started = None
        evaluations = ()
        follows = None
        followed_by = None

    @property
    def state(self) -> State:
        return State(self.state_value)

    def start_support(
        self, *, on: date, lead_professional: str, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """Record that the matched support really began (*ondersteuning gestart*).

        A coordinator records it, or a partner the family's consent names (the provider).
        """
        guards.check_transition(self.id, self.state, Action.START_SUPPORT)
        partner = [actor.organisation] if actor.role is ActorRole.PARTNER else []
        self._require_consent(Action.START_SUPPORT, on, partner)
        head = f"cannot record that support started for case {self.id}"
        if on > at.date():
            raise InvalidValueError(f"{head}: the start date lies in the future")
        if not lead_professional.strip():
            raise InvalidValueError(f"{head}: name the lead professional")
        self._support_started(
            on=on,
            lead_professional=redact_bsns(lead_professional.strip()),
            **_cause(actor, at, causation_id),
        )

    @event("SupportStarted")
    def _support_started(
        self,
        on: date,
        lead_professional: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.SUPPORT_STARTED.value
        self.support_started = {
            "on": on,
            "lead_professional": lead_professional,
            "by": actor["organisation"],
            "at": occurred_at,
        }
        self._touch("support_started", occurred_at)
        # Deadlines count from the day the support began, which may precede its recording.
        self.milestones["support_started"] = datetime.combine(on, occurred_at.timetz())

    def require_named_provider(self, organisation: str, today: date) -> None:
        """Refuse a provider's confirmation unless the family's active consent names it."""
        consent = self.consent
        if guards.consent_is_active(consent, today) and organisation in (consent or {})["scope"]:
            return
        raise NotInConsentScopeError(
            f"cannot record that support started for case {self.id}: the family's consent does "
            f"not name {organisation[:200]}; only a provider the family agreed to may confirm "
            "it (ask the coordinator)"
        )

    def record_evaluation(
        self,
        *,
        on: date,
        needs: dict[Need, NeedResult],
        scores: HealthScores,
        next_step: NextStep,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record the evaluation of the support: per need met or not, new scores, what next."""
        guards.check_transition(self.id, self.state, Action.RECORD_EVALUATION)
        head = f"cannot record an evaluation for case {self.id}"
        if on > at.date():
            raise InvalidValueError(f"{head}: its date lies in the future")
        started = self.support_started
        if started is not None and on < started["on"]:
            raise InvalidValueError(f"{head}: its date lies before the support started")
        if not needs:
            raise InvalidValueError(f"{head}: say for at least one need whether it was met")
        found = {n for d in self.discussions for n in d["needs"]}
        unknown = sorted(n.value for n in needs if n.value not in found)
        if found and unknown:
            raise InvalidValueError(
                f"{head}: {', '.join(unknown)} was not a need found at the discussion"
            )
        self._evaluated(
            on=on,
            needs={n.value: r.value for n, r in sorted(needs.items())},
            scores=scores.model_dump(mode="json"),
            next_step=next_step.value,
            **_cause(actor, at, causation_id),
        )

    @event("Evaluated")
    def _evaluated(
        self,
        on: date,
        needs: dict[str, str],
        scores: Json,
        next_step: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.state_value = State.EVALUATED.value
        entry = {"on": on, "needs": dict(needs), "scores": dict(scores), "next_step": next_step}
        self.evaluations = [*self.evaluations, entry]  # a new list: the default is shared
        self._touch("evaluated", occurred_at)

    def reopen(
        self,
        *,
        follow_up_id: str,
        within_months: int,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record that this closed case goes on as the linked follow-up case ``follow_up_id``."""
        guards.check_transition(self.id, self.state, Action.REOPEN)
        self.refuse_if_erased("reopen the case")
        head = f"cannot reopen case {self.id}"
        if self.outcome is not None and self.outcome["code"] == Outcome.MERGED.value:
            into = self.outcome.get("into", "another case of the household")
            raise InvalidValueError(f"{head}: it was merged into case {into}")
        if self.followed_by is not None:
            raise InvalidValueError(f"{head}: it was already reopened as case {self.followed_by}")
        closed = self.milestones["closed"].date()
        last_day = add_months(closed, within_months)
        if at.date() > last_day:
            raise InvalidValueError(
                f"{head}: it was closed on {closed.isoformat()}, more than {within_months} "
                "months ago; a new signal opens a new case"
            )
        self._reopened(follow_up_id=follow_up_id, **_cause(actor, at, causation_id))

    @event("Reopened")
    def _reopened(
        self, follow_up_id: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.followed_by = follow_up_id
        self.last_activity_at = occurred_at

    def closed_within(self, on: date, months: int) -> bool:
        """Whether the case is closed and ``on`` lies within ``months`` after its closing."""
        closed = self.milestones.get("closed")
        if self.state is not State.CLOSED or closed is None:
            return False
        return closed.date() <= on <= add_months(closed.date(), months)

    def evaluation_due(self, months: int) -> date | None:
        """When the support that started is to be evaluated: ``months`` after its start."""
        if self.support_started is None:
            return None
        return add_months(self.support_started["on"], months)

    def _touch(self, milestone: str, at: datetime) -> None:
        self.milestones[milestone] = at
        self.last_activity_at = at
