"""Prometheus metrics of the API, on a registry of its own (one per app, no global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LagSource = Callable[[], dict[str, int]]


class _LagCollector(Collector):
    """Projection lag (events behind the stream), read when scraped."""

    def __init__(self, source: LagSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ks_projection_lag_events",
            "Events the projection has not applied yet.",
            labels=["projection"],
        )
        for name, lag in sorted(self.source().items()):
            family.add_metric([name], lag)
        yield family


class ApiMetrics:
    """Request latency, commands and signals, and (when given) projection lag."""

    def __init__(self, lag: LagSource | None = None) -> None:
        self.registry = CollectorRegistry()
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
            "Signals submitted over HTTP: accepted into the pipeline or rejected at the door.",
            ["outcome"],
            registry=self.registry,
        )
        self.access_entries = Counter(
            "ks_access_log_entries",
            "Entries written to the NEN 7513 access log, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        if lag is not None:
            self.registry.register(_LagCollector(lag))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
