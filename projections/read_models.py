"""Every read model at once: the projections to run and the read API to hand to the HTTP adapter.

Read API::

    views = ReadModels(db, monitoring_threshold=10)
    views.work_queue.page(now=..., municipalities=[...], ...)  # WorkQueuePage (work_queue_store)
    views.cases.get(case_id)                                    # CaseView | None (case_view_store)
    views.monitoring.rows(municipalities, since, until)         # list[MonitoringRow]
    views.listing.open_cases(now=..., municipalities=[...], sort="deadline")  # (queue_listing)
    views.wait_for(position, timeout=2.0)                       # bool: read-your-writes
    await views.wait_for_async(position, timeout=2.0)

``position`` is what a command returns (``CommandResult.position``, ``SignalOutcome.position``):
``wait_for`` returns True once every view has applied the log up to there, False when the
timeout passed first (the caller then answers with what the views hold, marked as stale).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.deadlines import ServiceLevels
from domain.expiry import ExpiryRule
from projections.case_view_store import CaseViewProjection, CaseViews
from projections.errors import UnknownProjectionError
from projections.monitoring_store import DEFAULT_THRESHOLD, Monitoring, MonitoringProjection
from projections.queue_listing import QueueListing
from projections.store import (
    Projection,
    ViewDatabase,
    install,
    wait_for_position,
    wait_for_position_async,
)
from projections.transfer_requests import IncomingTransfers
from projections.work_queue_store import WorkQueue, WorkQueueProjection

NAMES = ("work_queue", "case_view", "monitoring")


def build_projections(levels: ServiceLevels) -> list[Projection]:
    """One projection per read model, in NAMES order."""
    return [WorkQueueProjection(levels), CaseViewProjection(), MonitoringProjection()]


def select(projections: Sequence[Projection], name: str | None) -> list[Projection]:
    """The named projection (every one for None); UnknownProjectionError for a wrong name."""
    if name is None:
        return list(projections)
    chosen = [p for p in projections if p.name == name.replace("-", "_")]
    if not chosen:
        known = ", ".join(p.name for p in projections)
        raise UnknownProjectionError(f"there is no read model {name!r}; choose one of: {known}")
    return chosen


class ReadModels:
    """The read API of every view over one database (see the module docstring)."""

    def __init__(
        self,
        db: ViewDatabase,
        *,
        levels: ServiceLevels | None = None,
        monitoring_threshold: int = DEFAULT_THRESHOLD,
        expiry: ExpiryRule | None = None,
    ) -> None:
        self.db = db
        install(db, build_projections(levels or ServiceLevels()))
        self.work_queue = WorkQueue(db, expiry)
        self.transfers = IncomingTransfers(db)
        self.cases = CaseViews(db)
        self.listing = QueueListing(db, expiry)
        self.monitoring = Monitoring(db, monitoring_threshold)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block (at most ``timeout`` s) until every view has applied the log to ``position``."""
        return wait_for_position(self.db, position, NAMES, timeout=timeout)

    async def wait_for_async(self, position: int, timeout: float) -> bool:
        """The same as :meth:`wait_for` without blocking the event loop."""
        return await wait_for_position_async(self.db, position, NAMES, timeout=timeout)
