"""What the HTTP API needs from parts built elsewhere: the signal pipeline and the read models.

The composition root hands implementations to ``create_app``; the API only knows these
protocols, so it never imports another adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from ks_engine.receipts import Receipt


class SignalGatewayError(Exception):
    """The signal pipeline (NATS) cannot take or answer a request right now."""


class SignalGateway(Protocol):
    """The front door of the signal pipeline: the same stream NATS partners publish to."""

    async def submit(self, subject: str, body: bytes, msg_id: str) -> None:
        """Publish a validated signal; return once the stream stored it."""

    async def receipt(self, reference: str) -> Receipt | None:
        """The receipt of the signal with this reference, or None while there is none."""


@dataclass(frozen=True)
class WorkQueueFilter:
    """The work queue's filters (all optional) and its cursor."""

    municipalities: Sequence[str]
    state: str | None = None
    overdue: bool | None = None
    urgency: str | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class QueuePage:
    """A page of the work queue: rows as the projection gives them, and the next cursor."""

    items: Sequence[Mapping[str, Any]]
    next_cursor: str | None


class CaseQueries(Protocol):
    """The read models (work queue, case view, monitoring), as built by the projections."""

    def work_queue(self, query: WorkQueueFilter) -> QueuePage:
        """Open cases of the given municipalities, most urgent first."""

    def case_view(self, case_id: UUID) -> Mapping[str, Any] | None:
        """One case's view (state, consent, discussion, support, timeline), or None."""

    def history(self, case_id: UUID) -> Sequence[Mapping[str, Any]] | None:
        """The case's timeline of events with their actors, oldest first, or None."""

    def monitoring(
        self, municipalities: Sequence[str] | None, since: date | None, until: date | None
    ) -> Sequence[Mapping[str, Any]]:
        """Monitoring rows per municipality and month (None: every municipality)."""

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait (bounded) until the views reflect the event at ``position``."""


ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns None when its part is ready, else a short reason."""
