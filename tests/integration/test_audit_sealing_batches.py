"""Sealing looks each batch's earlier versions up together: the chain is the same whatever
the batch size, on every event store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.persistence.audit_chain import (
    FOLLOWED,
    LINK_OF,
    SCHEMA,
    SqlChainStore,
    links_of_query,
)
from adapters.persistence.audit_scan import _LINKS
from adapters.persistence.audit_tables import SqliteAuditDatabase
from ks_engine.access_log import (
    RECORDED_TOPIC,
    AccessAction,
    AccessLog,
    AccessOutcome,
    Purpose,
)
from ks_engine.audit import sealer as sealing
from ks_engine.audit.chain import Link
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_the_chain_does_not_depend_on_the_sealing_batch(
    store_settings: Settings, clock: FixedClock, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = bootstrap(store_settings, clock=clock, configure_logs=False)
    try:
        play(engine.referrals, clock, seed=21, steps=80)
        store = engine.audit.chain
        monkeypatch.setattr(engine.audit.sealer, "clock", lambda: "2026-11-02T09:30:00+00:00")

        def seal_anew(size: int) -> list[Link]:
            with engine.audit.db.transaction(write=True) as tx:
                tx.execute("DELETE FROM audit_chain")
            monkeypatch.setattr(sealing, "BATCH", size)
            engine.audit.sealer.seal_pending()  # sealed at the same time each time
            return store.links(1, 100_000)

        whole = seal_anew(100_000)
        assert any(link.version > 1 for link in whole)
        # Each link looked up one by one and all together agree
        pairs = [(link.aggregate, link.version) for link in whole]
        together = store.links_of([*pairs, ("no-such-aggregate", 1)])
        assert together == {pair: store.link_of(*pair) for pair in pairs}
        # Sealed again in batches of ``batch``: the very same chain
        assert seal_anew(batch) == whole
    finally:
        engine.close()


def test_access_log_entries_are_sealed_but_never_looked_up_by_aggregate(
    store_settings: Settings, clock: FixedClock
) -> None:
    # The API stores an access-log entry for every request: an aggregate of one event that no
    # later version follows. Its link is in the chain but not in the index that the sealer,
    # verify and export look an aggregate's earlier version up by, and every such lookup
    # searches that index (on PostgreSQL as soon as the table is too large to scan).
    engine = bootstrap(store_settings, clock=clock, configure_logs=False)
    try:
        play(engine.referrals, clock, seed=21, steps=40)
        log = AccessLog(engine.referrals, engine.referrals.clock)
        recorded = [log.record(**_ENTRY, request_id=f"r-{n}").position for n in range(3)]
        engine.audit.sealer.seal_pending()
        store = engine.audit.chain
        links = store.links(1, 100_000)
        access = [link for link in links if link.topic == RECORDED_TOPIC]
        assert [link.position for link in access] == recorded
        assert all(link.version == 1 for link in access)
        assert store.links_of([(link.aggregate, 1) for link in access]) == {}
        assert [store.link_of(link.aggregate, 1) for link in access] == [None] * 3
        others = {(link.aggregate, link.version): link for link in links if link not in access}
        assert any(version > 1 for _, version in others)
        assert store.links_of(list(others)) == others
        scan = [_LINKS] if engine.audit.db.dialect == "sqlite" else []  # the quick scan's
        for query in (LINK_OF, links_of_query(3), *scan):
            assert "audit_chain_followed" in _plan(engine, query), query
    finally:
        engine.close()


def test_a_chain_made_before_gets_the_index_of_followed_links(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(SCHEMA[0])
        conn.execute("CREATE INDEX audit_chain_aggregate ON audit_chain (aggregate, version)")
    SqlChainStore(SqliteAuditDatabase(path))
    with sqlite3.connect(path) as conn:
        indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert "audit_chain_aggregate" not in indexes
    assert indexes["audit_chain_followed"].endswith(f"WHERE {FOLLOWED}")


def _plan(engine: Engine, query: str) -> str:
    """How the audit tables' database would run ``query``, as text."""
    params: list[object] = ["x", 1] * query.count("aggregate = ?") or [1, 2]  # or positions
    with engine.audit.db.transaction(write=False) as tx:
        if engine.audit.db.dialect == "postgres":
            tx.execute("SET LOCAL enable_seqscan = off")
            return " ".join(str(row[0]) for row in tx.fetchall(f"EXPLAIN {query}", params))
        return " ".join(str(row[-1]) for row in tx.fetchall(f"EXPLAIN QUERY PLAN {query}", params))


_ENTRY = {
    "action": AccessAction.READ,
    "outcome": AccessOutcome.ALLOWED,
    "principal_id": "demo-coordinator-kerkrade",
    "role": "coordinator",
    "organisation": "gemeente-kerkrade",
    "purpose": Purpose.COORDINATION,
    "source_address": "127.0.0.1",
    "object": "GET /cases",
    "status": 200,
}
