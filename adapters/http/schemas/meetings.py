"""Request and response bodies of the Knooppunt meetings (*casusoverleg*)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.meeting import Decision, FollowUp
from domain.values import HealthScores, Need


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(_In):
    """A meeting to plan: the municipality's Knooppunt, its date, who attends, first cases."""

    municipality: str = Field(pattern=r"^GM\d{4}$", description="CBS code, e.g. GM0928.")
    on: date = Field(description="The day of the meeting (today or later).")
    organisations: list[str] = Field(
        min_length=1, max_length=30, description="The attending organisations (ids or URIs)."
    )
    case_ids: list[UUID] = Field(
        default_factory=list,
        max_length=60,
        description="Cases to put on the agenda now; each needs the family's active consent "
        "naming an attending organisation.",
    )


class AgendaCaseIn(_In):
    """A case to put on the agenda."""

    case_id: UUID


class DiscussionAtMeetingIn(_In):
    """The case discussion held at the meeting (recorded as the case's discussion step)."""

    participants: list[str] = Field(
        min_length=1, max_length=30, description="Organisations the family's consent covers."
    )
    scores: HealthScores
    needs: list[Need] = Field(default_factory=list, max_length=20)


class DecisionIn(_In):
    """What the meeting decided about a case on its agenda."""

    case_id: UUID
    case_version: int | None = Field(
        default=None, ge=1, description="The case version the decision is based on (412 if stale)."
    )
    decision: Decision
    follow_up: FollowUp | None = Field(default=None, description="Required when discussed.")
    lead_organisation: str | None = Field(
        default=None, max_length=300, description="An attending organisation the consent names."
    )
    discussion: DiscussionAtMeetingIn | None = Field(
        default=None, description="Required when discussed: it becomes the case's discussion."
    )


class MeetingCommandOut(BaseModel):
    """What a command changed: the meeting's new version and the log position of its event."""

    meeting_id: UUID
    version: int
    position: int = Field(description="Ask queries to wait for this position (read-your-writes).")


class MeetingSummary(BaseModel):
    """A meeting in the list: date, state, attendees and how far its agenda is decided."""

    meeting_id: UUID
    municipality: str
    on: date
    state: str
    organisations: list[str]
    agenda_size: int
    decided: int


class MeetingList(BaseModel):
    items: list[MeetingSummary]


class AgendaEntry(BaseModel):
    """A case on the agenda and what was decided about it (None while it waits)."""

    case_id: UUID
    decision: dict[str, Any] | None = None


class MeetingOut(BaseModel):
    """The meeting and its minutes: per case on the agenda, what was decided."""

    meeting_id: UUID
    municipality: str
    on: date
    state: str
    version: int
    organisations: list[str]
    concluded_at: datetime | None = None
    agenda: list[AgendaEntry]


class AgendaOut(BaseModel):
    """The agenda as the reader may see it: only cases whose consent names the reader's
    organisation (a partner), each filtered by the reader policy."""

    meeting_id: UUID
    on: date
    organisation: str | None = Field(description="Whose view this is (None: the coordinator).")
    items: list[dict[str, Any]]
