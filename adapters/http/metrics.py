"""Prometheus metrics of the API, on a registry of its own (one per app, no global state).

With several API worker processes (``entrypoints.processes.api_workers``) a scrape reaches one
of them; each then counts into files of its own in PROMETHEUS_MULTIPROC_DIR, and the one
scraped answers with the sum over all of them (prometheus_client's multiprocess mode), so the
counters neither jump between workers nor fall back. A worker creates its files as it first
counts, so a scrape can meet a file that exists but is not sized yet (and one stays so for good
if its worker was killed in that moment): such a file holds no counts and is passed over, where
the library's own collector fails the whole scrape on it (``WorkerCounts``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ks_engine.supervision import ComponentState, StatusBoard

LagSource = Callable[[], Awaitable[dict[str, int]]]
"""Each read model's lag: events in the stream it has not applied yet."""


class ApiMetrics:
    """Request latency, commands and signals; projection lag and the supervised components'
    restarts when given."""

    def __init__(self, lag: LagSource | None = None, components: StatusBoard | None = None) -> None:
        self.registry = CollectorRegistry()
        # Read when scraped, never counted: served as they are by whichever worker is asked.
        self._lags = LagCollector()
        self._read_when_scraped: list[Collector] = [self._lags]
        if components is not None:
            self._read_when_scraped.append(ComponentCollector(components))
        for collector in self._read_when_scraped:
            self.registry.register(collector)
        self.requests = Counter(
            "ks_http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ks_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
        )
        self.commands = Counter(
            "ks_commands",
            "Coordinators' commands, by command and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.signals = Counter(
            "ks_http_signals",
            "Signals submitted over HTTP: handed to the intake, or rejected at the door.",
            ["outcome"],
            registry=self.registry,
        )
        self.signal_outcomes = Counter(
            "ks_signals",
            "Signals the intake decided (from NATS or HTTP), by outcome: accepted or rejected.",
            ["outcome"],
            registry=self.registry,
        )
        self.access_entries = Counter(
            "ks_access_log_entries",
            "Entries written to the NEN 7513 access log, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._lag = lag

    async def refresh(self) -> None:
        """Read the values that are measured when scraped (projection lag)."""
        if self._lag is not None:
            self._lags.lags = await self._lag()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric: this process's counts, or, in
        multiprocess mode, the sum of every worker's."""
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not shared:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        registry.register(WorkerCounts(shared))
        for collector in self._read_when_scraped:
            registry.register(collector)
        return generate_latest(registry)


class WorkerCounts(Collector):
    """The sum of every worker's counts in ``path``, over the files that have their size."""

    def __init__(self, path: str) -> None:
        self.path = path

    def collect(self) -> Iterable[Metric]:
        files = [f for f in glob.glob(os.path.join(self.path, "*.db")) if _sized(f)]
        return MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call,no-any-return]


def _sized(path: str) -> bool:
    """Whether a worker's counting file has been given its size: it is created empty first
    (``prometheus_client.mmap_dict.MmapedDict``) and never shrinks after."""
    try:
        return os.path.getsize(path) > 0
    except OSError:  # gone: the workers' directory is emptied when they start anew
        return False


class LagCollector(Collector):
    """Each read model's lag, as read at the last scrape (``ApiMetrics.refresh``)."""

    def __init__(self) -> None:
        self.lags: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "ks_projection_lag_events",
            "Events in the stream the read model has not applied yet (read when scraped).",
            labels=["projection"],
        )
        for name, events in sorted(self.lags.items()):
            lag.add_metric([name], events)
        yield lag


class ComponentCollector(Collector):
    """Each supervised component's restarts and whether it is up, read from the board when
    scraped (the board outlives a restart of the API, so the counter does not fall back)."""

    def __init__(self, board: StatusBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily(
            "ks_component_restarts",
            "Restarts of a component of the engine after an unexpected error.",
            labels=["component"],
        )
        up = GaugeMetricFamily(
            "ks_component_up",
            "1 while a component of the engine runs, 0 while it restarts or is stopped.",
            labels=["component"],
        )
        for name, status in self.board.snapshot().items():
            restarts.add_metric([name], status.restarts)
            up.add_metric([name], 1 if status.state is ComponentState.UP else 0)
        yield restarts
        yield up
