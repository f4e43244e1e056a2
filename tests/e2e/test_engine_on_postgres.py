"""`ks run` as an operator starts it with KS_STORE=postgres: events, read models and the relay's
position on a real PostgreSQL server, signals over a real (embedded) nats-server."""

from __future__ import annotations

import random
import signal
from pathlib import Path

from adapters.nats.embedded import free_port
from adapters.persistence.postgres import connect
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from tests.conftest import ks_environment
from tests.e2e.engine_process import (
    output,
    signals_and_receipts,
    start,
    wait_for_work_queue,
)
from tests.postgres_server import PostgresDatabase


async def test_ks_run_on_postgres_brings_signals_to_the_work_queue(
    tmp_path: Path, postgres_database: PostgresDatabase
) -> None:
    settings = Settings(data_dir=tmp_path, **postgres_database.settings_fields())
    env = ks_environment(settings)
    del env["KS_DATA_DIR"]  # start() sets it
    port = free_port()
    proc = start(
        ["run"], tmp_path, KS_EMBEDDED_NATS_PORT=str(port), KS_API_PORT=str(free_port()), **env
    )
    try:
        bsns = [demo_bsn(random.Random(seed)) for seed in (3, 4)]
        got = await signals_and_receipts(f"nats://127.0.0.1:{port}", bsns * 2, "pg")
        # Relay and projectors of the same process bring both cases to the PostgreSQL views
        queue = await wait_for_work_queue(settings, {r["case_id"] for r in got})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    log = output(tmp_path, "run")
    assert proc.returncode == 0, log[-2000:]
    assert [r["status"] for r in got] == ["accepted"] * 4
    assert [r["matched_existing"] for r in got] == [False, False, True, True]
    assert [(e.signal_count, e.state) for e in queue] == [(2, "signalled")] * 2
    # The relay recorded its position on the server; no state went to SQLite files
    with connect(settings) as conn:
        position = conn.execute("SELECT position FROM relay_position").fetchone()
    assert position is not None
    assert position[0] > 0
    assert not list(tmp_path.glob("*.sqlite"))
    for bsn in bsns:
        assert bsn not in log, "a BSN reached the engine's log"
    assert postgres_database.password not in log
