"""The NEN 7513 access log: every read of case data and every command, allowed or denied.

Each entry is one event of its own small aggregate in the event store, so the log gets the
store's guarantees (append-only, transactional, in the notification log that the audit
trail chains) and survives restarts. Entries carry the case id and the person's pseudonym,
never a BSN or any other direct identifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict, Field

from domain.redaction import FreeText
from ks_engine.group_commit import GroupCommit
from ks_engine.time_ordered_ids import time_ordered_id


class AccessAction(StrEnum):
    """What was done (NEN 7513 / FHIR AuditEvent action)."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    EXECUTE = "execute"
    READ_PERSONAL_DATA = "read personal data"  # the family's sealed details, opened on request


class AccessOutcome(StrEnum):
    """Whether the access was granted and succeeded."""

    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class Purpose(StrEnum):
    """Purpose of use (NEN 7513 *doel van de verwerking*)."""

    CARE = "care"
    COORDINATION = "coordination"
    AUDIT = "audit"
    RESEARCH = "research"
    OPERATIONS = "operations"
    REPAIR = "repair"  # an administrator reads or replays a dead-lettered signal
    FAMILY_CONTACT = "family_contact"  # to reach the family (phone, visit)
    SAFETY = "safety"  # acting under the Meldcode
    RIGHTS = "rights"  # a privacy officer serves the family's rights (AVG art. 15-21)


class PersonalDataPurpose(StrEnum):
    """The closed list of purposes for which a coordinator may open personal details."""

    COORDINATION = "coordination"
    FAMILY_CONTACT = "family_contact"
    SAFETY = "safety"


class AccessEntry(BaseModel):
    """One access-log entry as auditors read it."""

    model_config = ConfigDict(frozen=True)
    event_id: UUID
    position: int | None = Field(default=None, description="Position in the event store's log.")
    occurred_at: datetime
    action: AccessAction
    outcome: AccessOutcome
    principal_id: str | None = Field(description="None for a request without a valid token.")
    role: str | None
    organisation: str | None
    purpose: Purpose
    source_address: str
    request_id: str
    case_id: UUID | None = None
    person_pseudonym: str | None = None
    person: str | None = Field(
        default=None,
        description="A person signed in at their organisation's identity provider: issuer#subject.",
    )
    municipality: str | None = Field(default=None, description="The case's municipality.")
    object: FreeText = Field(
        description="The query or object accessed, e.g. 'GET /cases/{case_id}' (never a BSN)."
    )
    query_length: int | None = Field(
        default=None,
        description="Characters in the request's query string; the object keeps the first 2,048.",
    )
    status: int = Field(description="The HTTP status answered.")


class AccessRecord(Aggregate):
    """The stored form of one access-log entry: created once, never changed.

    Its id is in time order (``time_ordered_id``), not random: the API stores an entry for
    every request, and the event store's index of aggregate ids then takes each one at its end
    instead of on a page of its own anywhere in it (which every commit of entries wrote)."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return time_ordered_id()

    @event("Recorded")
    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry


RECORDED_TOPIC = get_topic(AccessRecord.Recorded)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AccessQuery:
    """Filters of the access log: by case, principal and period (all optional)."""

    case_id: UUID | None = None
    principal_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # An auditor's or privacy officer's remit: of the entries about a case, only those of a
    # case of these municipalities (None: all). Entries about no case name no person.
    municipalities: frozenset[str] | None = None

    def in_remit(self, entry: AccessEntry) -> bool:
        """Whether the entry concerns no case or a case of the remit's municipalities."""
        if self.municipalities is None or entry.case_id is None:
            return True
        return entry.municipality in self.municipalities

    def matches(self, entry: AccessEntry) -> bool:
        return (
            self.in_remit(entry)
            and (self.case_id is None or entry.case_id == self.case_id)
            and (self.principal_id is None or entry.principal_id == self.principal_id)
            and (self.since is None or entry.occurred_at >= self.since)
            and (self.until is None or entry.occurred_at < self.until)
        )


@dataclass(frozen=True)
class AccessPage:
    """A page of entries and the cursor for the next one (None at the end)."""

    entries: list[AccessEntry]
    next_cursor: int | None


class AccessLog:
    """Appends entries to, and reads them from, the application's event store."""

    SCAN_BATCH = 500

    def __init__(self, app: Application[UUID], clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock
        self._commits = GroupCommit(app.save)

    def record(self, **fields: Any) -> AccessEntry:
        """Store one entry before returning; ``fields`` are AccessEntry's fields but id, time
        and position. Entries of concurrent requests are stored together (group commit)."""
        draft, record = self.prepare(**fields)
        position = self._commits.submit(record)
        return draft.model_copy(update={"event_id": record.id, "position": position})

    def prepare(self, **fields: Any) -> tuple[AccessEntry, AccessRecord]:
        """An entry validated and made ready to store (``store``), as ``record`` takes it."""
        occurred_at = fields.pop("occurred_at", None) or self.clock()
        draft = AccessEntry(event_id=UUID(int=0), occurred_at=occurred_at, **fields)
        stored = draft.model_dump(mode="json", exclude={"event_id", "position"})
        return draft, AccessRecord(entry=stored)

    def store(self, records: Sequence[AccessRecord]) -> list[int]:
        """Prepared entries stored in one transaction (a caller that groups them itself, the
        API's ``AccessWriter``); the log position of each."""
        return self._commits.save_together(records)

    def find(self, query: AccessQuery, *, after: int = 0, limit: int = 100) -> AccessPage:
        """Entries matching ``query`` in log order, starting after position ``after``."""
        found: list[AccessEntry] = []
        start = after + 1
        while len(found) < limit:
            batch = self.app.recorder.select_notifications(
                start=start, limit=self.SCAN_BATCH, topics=[RECORDED_TOPIC]
            )
            for notification in batch:
                entry = self._entry(notification.id, self.app.mapper.to_domain_event(notification))
                if query.matches(entry):
                    found.append(entry)
                    if len(found) == limit:
                        return AccessPage(found, notification.id)
            if len(batch) < self.SCAN_BATCH:
                return AccessPage(found, None)
            start = batch[-1].id + 1
        return AccessPage(found, None)

    def find_newest(
        self, query: AccessQuery, *, before: int | None = None, limit: int = 100
    ) -> AccessPage:
        """Entries matching ``query``, newest first, from before position ``before`` (None:
        the end of the log); the cursor is ``before`` for the next, older page."""
        found: list[AccessEntry] = []
        top = self.app.recorder.max_notification_id() or 0
        stop = min(top, before - 1) if before is not None else top
        while stop >= 1:
            start = max(1, stop - self.SCAN_BATCH + 1)
            batch = self.app.recorder.select_notifications(
                start=start, limit=self.SCAN_BATCH, stop=stop, topics=[RECORDED_TOPIC]
            )
            for notification in reversed(batch):
                entry = self._entry(notification.id, self.app.mapper.to_domain_event(notification))
                if query.since is not None and entry.occurred_at < query.since:
                    return AccessPage(found, None)  # the log is in time order: none older fits
                if query.matches(entry):
                    found.append(entry)
                    if len(found) == limit:
                        return AccessPage(found, notification.id if notification.id > 1 else None)
            stop = start - 1
        return AccessPage(found, None)

    @staticmethod
    def _entry(position: int, stored: Any) -> AccessEntry:
        return AccessEntry.model_validate(
            dict(stored.entry, event_id=stored.originator_id, position=position)
        )
