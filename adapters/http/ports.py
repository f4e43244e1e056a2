"""What the HTTP API needs from parts built elsewhere: the signal pipeline and the read models.

The composition root hands implementations to ``create_app``; the API only knows these
protocols, so it never imports another adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from ks_engine.application import Referrals
from ks_engine.feedback_contract import FeedbackData
from ks_engine.receipts import Receipt
from ks_engine.settings import Settings
from ks_engine.signal_rules import SignalRules
from projections.monitoring_store import Count, Days
from projections.publication import Area, Granularity, Publication


class SignalGatewayError(Exception):
    """The signal pipeline (NATS) cannot take or answer a request right now."""


class SignalGateway(Protocol):
    """The front door of the signal pipeline: the same stream NATS partners publish to."""

    async def submit(self, subject: str, body: bytes, msg_id: str) -> None:
        """Publish a validated signal; return once the stream stored it."""

    async def receipt(self, reference: str) -> Receipt | None:
        """The receipt of the signal with this reference, or None while there is none."""

    async def feedback(self, source: str) -> list[FeedbackData]:
        """Every feedback message to the partner ``source``, in the order it was published."""


class Document(Protocol):
    """A read-model row or document (the projections' pydantic models)."""

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]: ...


class QueuePage(Protocol):
    """A page of the work queue, answered as the JSON of its entries and the next cursor."""

    def json(self) -> bytes: ...


class WorkQueueReader(Protocol):
    """The work queue: open cases, most urgent first (``ValueError`` for a bad cursor)."""

    def stored_page(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        urgencies: Sequence[str] | None = None,
        overdue: bool | None = None,
        limit: int = 50,
        cursor: str | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
    ) -> QueuePage: ...


class ListingPage(Protocol):
    """A page of the dashboard's case listing and how many cases match in all."""

    @property
    def items(self) -> Sequence[Document]: ...

    @property
    def total(self) -> int: ...


class ListingReader(Protocol):
    """Sorted pages of open cases and of closed cases (``queue_listing``)."""

    def open_cases(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str],
        sort: str = "urgency",
        descending: bool = False,
        offset: int = 0,
        limit: int = 25,
        states: Sequence[str] | None = None,
        urgencies: Sequence[str] | None = None,
        overdue: bool | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
    ) -> ListingPage: ...

    def closed_cases(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str],
        sort: str = "deadline",
        descending: bool = False,
        offset: int = 0,
        limit: int = 25,
        urgencies: Sequence[str] | None = None,
    ) -> ListingPage: ...


class CaseViewReader(Protocol):
    """One document per case: state, consent, discussions, support, timeline."""

    def get(self, case_id: UUID | str) -> Document | None: ...


class MonitoringReader(Protocol):
    """Aggregate figures per municipality and month, small cells suppressed unless exact."""

    def rows(
        self,
        municipalities: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        *,
        exact: bool = False,
    ) -> Sequence[Document]: ...

    def raw(
        self,
        municipalities: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> tuple[list[Count], list[Days]]: ...


class Publisher(Protocol):
    """Turns exact figures into the protected publication that may leave the Knooppunt."""

    def publish(
        self,
        counts: Sequence[Count],
        days: Sequence[Days],
        granularity: Granularity,
        area: Area,
    ) -> Publication: ...


class TransfersReader(Protocol):
    """Transfers waiting for the receiving Knooppunt's answer (``transfer_requests``)."""

    def waiting(self, municipalities: Sequence[str]) -> Sequence[Document]: ...


class ReadModels(Protocol):
    """The read models as the projections serve them (``projections.read_models.ReadModels``)."""

    @property
    def work_queue(self) -> WorkQueueReader: ...

    @property
    def cases(self) -> CaseViewReader: ...

    @property
    def listing(self) -> ListingReader: ...

    @property
    def monitoring(self) -> MonitoringReader: ...

    @property
    def transfers(self) -> TransfersReader: ...

    async def wait_for_async(self, position: int, timeout: float) -> bool:
        """Wait (bounded) until every view has applied the log up to ``position``."""


ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns None when its part is ready, else a short reason."""


class EngineParts(Protocol):
    """What the HTTP app is built from; the composition root's engine provides it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def referrals(self) -> Referrals: ...

    def pseudonymise(self, bsn: str) -> str: ...

    def signal_rules(self) -> SignalRules: ...
