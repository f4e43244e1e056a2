"""Prometheus metrics of the API, on a registry of its own (one per app, no global state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ks_engine.supervision import ComponentState, StatusBoard

LagSource = Callable[[], Awaitable[dict[str, int]]]
"""Each read model's lag: events in the stream it has not applied yet."""


class ApiMetrics:
    """Request latency, commands and signals; projection lag and the supervised components'
    restarts when given."""

    def __init__(self, lag: LagSource | None = None, components: StatusBoard | None = None) -> None:
        self.registry = CollectorRegistry()
        if components is not None:
            self.registry.register(ComponentCollector(components))
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
        self.projection_lag = Gauge(
            "ks_projection_lag_events",
            "Events in the stream the read model has not applied yet (read when scraped).",
            ["projection"],
            registry=self.registry,
        )
        self._lag = lag

    async def refresh(self) -> None:
        """Read the values that are measured when scraped (projection lag)."""
        if self._lag is None:
            return
        for name, events in (await self._lag()).items():
            self.projection_lag.labels(name).set(events)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


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
