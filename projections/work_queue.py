"""Work queue rows (*werkvoorraad*): pure event -> row logic for the open cases.

A row is folded as plain JSON values (:func:`fold`); ``WorkItem`` describes it and reads it
back for the queue's readers.

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
        return overdue(self.deadline_due, self.suspended_until, today)


def overdue(due: date | None, suspended_until: date | None, today: date) -> bool:
    """A deadline ``due`` is overdue on ``today``: after its day, with its clock running."""
    return suspended_until is None and due is not None and today > due


Row = dict[str, Any]  # a WorkItem as plain JSON values

_RANK = {"urgent": 0, "soon": 1, "routine": 2}  # Urgency.rank
_NOTHING_TO_KEEP = frozenset({"ChildBorn", "PersonalDataErased", "Reopened"})
_NOTHING_TO_KEEP |= {"PersonalDetailsCorrected"}  # the row holds no personal details


def next_deadline(
    state: State, signalled_at: datetime, milestones: dict[str, datetime], levels: ServiceLevels
) -> tuple[str, date] | None:
    """The step the case waits for and its due date, as ``domain.deadlines`` defines them."""
    return deadline_of(state, signalled_at, milestones, levels)


def apply(item: WorkItem | None, event: ReferralEvent, levels: ServiceLevels) -> WorkItem | None:
    """The row after ``event``; None once the case is closed (or was never opened here). The
    row passed in is left as it was; the fold itself is :func:`fold`."""
    after = fold(None if item is None else item.model_dump(mode="json"), event, levels)
    return None if after is None else WorkItem.model_validate(after)


def _most_urgent(a: str, b: str) -> str:
    return a if _RANK[a] <= _RANK[b] else b


def opened(event: ReferralEvent) -> Row:
    """The row of a case its ``Signalled`` event opens (its deadline still to be set)."""
    b = event.body
    signal = b["signal"]
    return {
        "case_id": event.case_id,
        "municipality": b["municipality"],
        "state": State.SIGNALLED.value,
        "signalled_at": b["occurred_at"],
        "urgency": signal["urgency"],
        "risk_factors": list(signal["risk_factors"]),
        "signal_count": 1,
        "milestones": {},
        "last_activity_at": b["occurred_at"],
        "version": event.version,
        "deadline_step": None,
        "deadline_due": None,
        "deadline_hold": None,
        "suspended_until": None,
        "restricted": False,
        "transfer": None,
        "assignee": None,
    }


def fold(row: Row | None, event: ReferralEvent, levels: ServiceLevels) -> Row | None:
    """The row after ``event``, changed in place (the caller owns it), on the event's plain
    JSON fields; None once the case is closed (or was never opened here)."""
    b, name, data = event.body, event.name, event.data
    if name == "Signalled":
        row = opened(event)
    elif row is None or name == "Closed":
        return None
    elif name == "CasesMerged" and b["merged_case_id"] == event.case_id:
        return None  # taken into the household's other case, which stays in the queue
    elif name == "CasesMerged":
        # The kept case takes in the merged case's signals: their urgency and risk factors.
        risks = row["risk_factors"]
        for signal in b["signals"]:
            row["urgency"] = _most_urgent(row["urgency"], signal["urgency"])
            risks += [r for r in signal["risk_factors"] if r not in risks]
        row["signal_count"] += len(b["signals"])
    elif name in _NOTHING_TO_KEEP:
        pass  # the work on the case goes on; its row holds no personal details to remove
    elif name == "SignalAdded":
        signal, risks = b["signal"], row["risk_factors"]
        risks += [r for r in signal["risk_factors"] if r not in risks]
        row["urgency"] = _most_urgent(row["urgency"], signal["urgency"])
        row["signal_count"] += 1
    elif isinstance(data, ev.DeadlineSuspended):
        hold = row["deadline_hold"]
        row["deadline_hold"] = suspended(
            hold, data.step, data.base, data.due, data.until, data.occurred_at
        )
    elif isinstance(data, ev.DeadlineResumed):
        row["deadline_hold"] = resumed(row["deadline_hold"], data.due)
    elif isinstance(data, ev.DeadlineExtended):
        row["deadline_hold"] = extended(row["deadline_hold"], data.step, data.base, data.due)
    elif name == "Assigned":
        row["assignee"] = b["coordinator"]
    elif name in ("Restricted", "RestrictionLifted"):
        row["restricted"] = name == "Restricted"
    elif name in ("SignalRetracted", "TransferRequested", "TransferRefused", "CaseTransferred"):
        _rights(row, name, b)
    else:
        state = ev.STATE_AFTER[name]
        if state is not None:
            row["state"] = state.value
        milestones = row["milestones"]
        milestones[_MILESTONE[name]] = b["occurred_at"]
        if name == "SupportStarted":  # the evaluation counts from the first day, at its hour
            milestones["support_started"] = b["on"] + b["occurred_at"][10:]
    _set_deadline(row, levels.for_municipality(row["municipality"]))
    row["last_activity_at"] = b["occurred_at"]
    row["version"] = event.version
    return row


def _rights(row: Row, name: str, b: Row) -> None:
    """The row after a retraction or a step of a transfer."""
    if name == "SignalRetracted":
        row["urgency"] = b["urgency"]
        row["risk_factors"] = list(b["risk_factors"])
        row["signal_count"] = b["remaining"]
    elif name == "TransferRequested":
        asked = {"to_municipality": b["to_municipality"], "basis": b["basis"]}
        row["transfer"] = {**asked, "at": b["occurred_at"]}
    elif name == "TransferRefused":
        row["transfer"] = None
    else:  # CaseTransferred: the new Knooppunt's coordinators take it on
        row["transfer"], row["municipality"], row["assignee"] = None, b["to_municipality"], None


def _set_deadline(row: Row, levels: ServiceLevels) -> None:
    """The step the case now waits for, its due date and any hold (``domain.deadlines``)."""
    moments = {k: datetime.fromisoformat(v) for k, v in row["milestones"].items()}
    found = next_deadline(
        State(row["state"]), datetime.fromisoformat(row["signalled_at"]), moments, levels
    )
    hold = row["deadline_hold"]
    deadline = held_deadline(found, hold)
    due, until = (deadline[1], deadline[2]) if deadline else (None, None)
    if due is not None and until is not None and hold is not None:
        due = resumed_due(date.fromisoformat(hold["since"]), due, until)
    row["deadline_step"] = deadline[0] if deadline else None
    row["deadline_due"] = due.isoformat() if due else None
    row["suspended_until"] = until.isoformat() if until else None
