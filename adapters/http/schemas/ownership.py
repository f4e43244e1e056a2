"""Request and response bodies of assigning a case and of the coordinators' notes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ks_engine.access_log import PersonalDataPurpose


class AssignmentIn(BaseModel):
    """Assign the case to a coordinator of its municipality; without one you take it."""

    model_config = ConfigDict(extra="forbid")
    coordinator: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="The coordinator's principal id; leave it out to take the case yourself.",
    )


class NoteIn(BaseModel):
    """A coordinator's note: free text, sealed before it is stored (BSNs are redacted)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class NoteAddedOut(BaseModel):
    """The note was stored sealed: its number among the case's notes."""

    case_id: UUID
    number: int


class NoteOut(BaseModel):
    """One note: its number, when and by whom, and its text."""

    number: int
    at: datetime
    organisation: str
    author: str = Field(description="The principal id of the coordinator who wrote it.")
    text: str | None = Field(
        default=None, description="Label `notes`: for the readers the reader policy allows."
    )
    confidentiality: Literal["notes"] = "notes"


class NotesOut(BaseModel):
    """The case's notes for a stated purpose; ``erased`` once erased with the details."""

    case_id: UUID
    purpose: PersonalDataPurpose
    status: Literal["present", "erased"]
    erased_at: datetime | None = None
    notes: list[NoteOut]
