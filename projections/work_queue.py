"""Work queue rows (*werkvoorraad*): pure event -> row logic for the open cases.

A row holds what a coordinator sorts and filters on; closing a case removes its row. The next
deadline follows the service levels of ``domain.deadlines`` (the same rules as
``next_deadline`` on the aggregate, from the milestones the events carry).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.deadline_holds import extended, held_deadline, resumed, resumed_due, suspended
from domain.deadlines import ServiceLevels, deadline_of
from domain.lifecycle import State
from domain.values import Urgency
from projections import event as ev
from projections.event import ReferralEvent

# Which milestone each event reaches, for the deadline of the next step.
_MILESTONE: dict[str, str] = {
    "ConsentRequested": "consent_requested",
    "ConsentGiven": "consented",
    "ConsentDeclined": "consent_declined",
    "ConsentWithdrawn": "consent_withdrawn",
    "Discussed": "discussed",
    "SupportMatched": "support_matched",
    "Escalated": "escalated",
    "SupportStarted": "support_started",
    "Evaluated": "evaluated",
}


class WorkItem(BaseModel):
    """One open case as the work queue keeps it."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    municipality: str
    state: State
    signalled_at: datetime
    urgency: Urgency
    risk_factors: tuple[str, ...]
    signal_count: int
    milestones: dict[str, datetime]
    last_activity_at: datetime
    version: int
    deadline_step: str | None = None
    deadline_due: date | None = None
    # A suspended or extended deadline (domain.deadline_holds); the queue shows the date
    # it would be due when resumed as expected, and is not overdue while suspended.
    deadline_hold: dict[str, Any] | None = None
    suspended_until: date | None = None
    restricted: bool = False  # AVG art. 18: kept, no processing but the privacy officer's
    transfer: dict[str, Any] | None = None  # {"to_municipality", "basis", "at"} while asked
    assignee: str | None = None  # the coordinator who owns the case (*casusregisseur*)

    def is_overdue(self, today: date) -> bool:
        """Past its deadline on ``today`` (the deadline day itself is still on time)."""
        due = self.deadline_due
        return self.suspended_until is None and due is not None and today > due


def next_deadline(
    state: State, signalled_at: datetime, milestones: dict[str, datetime], levels: ServiceLevels
) -> tuple[str, date] | None:
    """The step the case waits for and its due date, as ``domain.deadlines`` defines them."""
    return deadline_of(state, signalled_at, milestones, levels)


def _most_urgent(a: Urgency, b: Urgency) -> Urgency:
    return a if a.rank <= b.rank else b


def _rights(item: WorkItem, data: ev.EventData) -> WorkItem:
    """The row after a retraction, a correction or a step of a transfer."""
    if isinstance(data, ev.SignalRetracted):
        return item.model_copy(
            update={
                "urgency": data.urgency,
                "risk_factors": tuple(r.value for r in data.risk_factors),
                "signal_count": data.remaining,
            }
        )
    if isinstance(data, ev.TransferRequested):
        asked = {"to_municipality": data.to_municipality, "basis": data.basis}
        return item.model_copy(update={"transfer": {**asked, "at": data.occurred_at}})
    if isinstance(data, ev.TransferRefused):
        return item.model_copy(update={"transfer": None})
    if isinstance(data, ev.CaseTransferred):
        moved = {"transfer": None, "municipality": data.to_municipality, "assignee": None}
        return item.model_copy(update=moved)  # the new Knooppunt's coordinators take it on
    return item  # corrected personal details: the row holds none


_RIGHTS = (
    ev.SignalRetracted,
    ev.PersonalDetailsCorrected,
    ev.TransferRequested,
    ev.TransferRefused,
    ev.CaseTransferred,
)


def apply(item: WorkItem | None, event: ReferralEvent, levels: ServiceLevels) -> WorkItem | None:
    """The row after ``event``; None once the case is closed (or was never opened here)."""
    data = event.data
    if isinstance(data, ev.Signalled):
        item = WorkItem(
            case_id=event.case_id,
            municipality=data.municipality,
            state=State.SIGNALLED,
            signalled_at=data.occurred_at,
            urgency=data.signal.urgency,
            risk_factors=tuple(r.value for r in data.signal.risk_factors),
            signal_count=1,
            milestones={},
            last_activity_at=data.occurred_at,
            version=event.version,
        )
    elif item is None or isinstance(data, ev.Closed):
        return None
    elif isinstance(data, ev.CasesMerged) and data.merged_case_id == event.case_id:
        return None  # taken into the household's other case, which stays in the queue
    elif isinstance(data, ev.CasesMerged):
        # The kept case takes in the merged case's signals: their urgency and risk factors.
        urgency, risks = item.urgency, list(item.risk_factors)
        for signal in data.signals:
            urgency = _most_urgent(urgency, signal.urgency)
            risks += [r.value for r in signal.risk_factors if r.value not in risks]
        item = item.model_copy(
            update={
                "urgency": urgency,
                "risk_factors": tuple(risks),
                "signal_count": item.signal_count + len(data.signals),
            }
        )
    elif isinstance(data, ev.ChildBorn):
        pass
    elif isinstance(data, ev.SignalAdded):
        new = [r.value for r in data.signal.risk_factors if r.value not in item.risk_factors]
        item = item.model_copy(
            update={
                "urgency": _most_urgent(item.urgency, data.signal.urgency),
                "risk_factors": (*item.risk_factors, *new),
                "signal_count": item.signal_count + 1,
            }
        )
    elif isinstance(data, ev.PersonalDataErased | ev.Reopened):
        pass  # the work on the case goes on; its row holds no personal details to remove
    elif isinstance(data, ev.DeadlineSuspended):
        hold = suspended(
            item.deadline_hold, data.step, data.base, data.due, data.until, data.occurred_at
        )
        item = item.model_copy(update={"deadline_hold": hold})
    elif isinstance(data, ev.DeadlineResumed):
        item = item.model_copy(update={"deadline_hold": resumed(item.deadline_hold, data.due)})
    elif isinstance(data, ev.DeadlineExtended):
        hold = extended(item.deadline_hold, data.step, data.base, data.due)
        item = item.model_copy(update={"deadline_hold": hold})
    elif isinstance(data, ev.Assigned):
        item = item.model_copy(update={"assignee": data.coordinator})
    elif isinstance(data, ev.Restricted | ev.RestrictionLifted):
        item = item.model_copy(update={"restricted": isinstance(data, ev.Restricted)})
    elif isinstance(data, _RIGHTS):
        item = _rights(item, data)
    else:
        state = ev.STATE_AFTER[event.name]
        milestones = dict(item.milestones)
        milestones[_MILESTONE[event.name]] = data.occurred_at
        if isinstance(data, ev.SupportStarted):  # the evaluation counts from the first day
            milestones["support_started"] = datetime.combine(data.on, data.occurred_at.timetz())
        item = item.model_copy(update={"state": state or item.state, "milestones": milestones})
    found = next_deadline(
        item.state, item.signalled_at, item.milestones, levels.for_municipality(item.municipality)
    )
    deadline = held_deadline(found, item.deadline_hold)
    due, until = (deadline[1], deadline[2]) if deadline else (None, None)
    if due is not None and until is not None and item.deadline_hold is not None:
        due = resumed_due(date.fromisoformat(item.deadline_hold["since"]), due, until)
    return item.model_copy(
        update={
            "last_activity_at": data.occurred_at,
            "version": event.version,
            "deadline_step": deadline[0] if deadline else None,
            "deadline_due": due,
            "suspended_until": until,
        }
    )
