"""Sealing looks each batch's earlier versions up together: the chain is the same whatever
the batch size, on every event store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.persistence.audit_chain import (
    FOLLOWED,
    INDEX_BY_AGGREGATE,
    LINK_OF,
    TABLES,
    SqlChainStore,
    events_table,
    links_of_query,
)
from adapters.persistence.audit_scan import links_query
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


@pytest.fixture
def engine(store_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(store_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_the_chain_does_not_depend_on_the_sealing_batch(
    engine: Engine, clock: FixedClock, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    # Another spelling of an aggregate's UUID names no link, and hides none asked beside it
    braced = [("{" + aggregate + "}", version) for aggregate, version in pairs]
    assert store.links_of([*pairs, *braced]) == together
    # Sealed again in batches of ``batch``: the very same chain
    assert seal_anew(batch) == whole


def test_access_log_entries_are_sealed_but_never_looked_up_by_aggregate(
    engine: Engine, clock: FixedClock
) -> None:
    # The API stores an access-log entry for every request: an aggregate of one event that no
    # later version follows. Its link is in the chain but never found by a lookup by aggregate
    # (which the sealer, verify and export use to find an aggregate's earlier version).
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


def test_lookups_by_aggregate_search_an_index(engine: Engine) -> None:
    # Beside an SQLite file or PostgreSQL the chain has no index by aggregate: its lookups go
    # through the events' primary key (the event's notification id is its link's position),
    # and so does the quick scan's. Beside an in-memory event store, through the chain's own
    # index of followed links.
    store, dialect = engine.audit.chain, engine.audit.db.dialect
    indexes = _chain_indexes(engine)
    if store.events is None:
        assert engine.settings.store == "memory"
        assert "audit_chain_followed" in indexes
        for query in (LINK_OF, links_of_query(3)):
            assert "audit_chain_followed" in _plan(engine, query), query
        return
    assert not {"audit_chain_followed", "audit_chain_aggregate"} & indexes
    queries = [store.events.links_query(3)]
    if dialect == "sqlite":
        queries.append(links_query(engine.referrals.recorder.events_table_name))
    for query in queries:
        plan = _plan(engine, query)
        if dialect == "sqlite":
            # SEARCH: by an index; SCAN c: the chain's range, in the quick scan only
            scans = [p for p in plan.split("|") if p.startswith("SCAN")]
            assert scans in ([], ["SCAN c"]), plan
            assert "sqlite_autoindex_stored_events_1" in plan, plan
        else:
            assert "Seq Scan" not in plan, plan


def test_a_link_that_names_another_aggregate_is_no_link_of_the_pair(
    engine: Engine, clock: FixedClock
) -> None:
    # A lookup through the events finds the link at the event's position; a link there that
    # names another aggregate or version (written into the table directly) is not returned.
    play(engine.referrals, clock, seed=21, steps=30)
    engine.audit.sealer.seal_pending()
    store = engine.audit.chain
    first, second = store.links(1, 2)
    with engine.audit.db.transaction(write=True) as tx:
        tx.execute(
            "UPDATE audit_chain SET aggregate = ? WHERE position = ?",
            (second.aggregate, first.position),
        )
    assert store.link_of(first.aggregate, first.version) is None
    assert (first.aggregate, first.version) not in store.links_of(
        [(first.aggregate, first.version), (second.aggregate, second.version)]
    )
    if store.events is not None:  # the link at the event's position, not the first named
        assert store.link_of(second.aggregate, second.version) == second


def test_a_chain_made_before_gets_the_index_of_followed_links(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(TABLES[0])
        conn.execute("CREATE INDEX audit_chain_aggregate ON audit_chain (aggregate, version)")
    SqlChainStore(SqliteAuditDatabase(path))
    with sqlite3.connect(path) as conn:
        indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert "audit_chain_aggregate" not in indexes
    assert indexes["audit_chain_followed"].endswith(f"WHERE {FOLLOWED}")


def test_a_chain_beside_its_events_drops_an_index_by_aggregate_made_before(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, log_level="warning")
    engine = bootstrap(settings, configure_logs=False)
    engine.close()
    with sqlite3.connect(settings.sqlite_path) as conn:
        for statement in INDEX_BY_AGGREGATE:
            conn.execute(statement)
        conn.execute("CREATE INDEX audit_chain_aggregate ON audit_chain (aggregate, version)")
    engine = bootstrap(settings, configure_logs=False)
    try:
        assert engine.audit.chain.events == events_table(engine.referrals.recorder, engine.audit.db)
        assert engine.audit.chain.events is not None
        assert not {"audit_chain_followed", "audit_chain_aggregate"} & _chain_indexes(engine)
    finally:
        engine.close()


def _chain_indexes(engine: Engine) -> set[str]:
    """The names of the indexes on ``audit_chain``."""
    with engine.audit.db.transaction(write=False) as tx:
        if engine.audit.db.dialect == "postgres":
            rows = tx.fetchall("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_chain'")
        else:
            rows = tx.fetchall("SELECT name FROM sqlite_master WHERE tbl_name = 'audit_chain'")
    return {str(row[0]) for row in rows}


def _plan(engine: Engine, query: str) -> str:
    """How the audit tables' database would run ``query``, as text."""
    some = uuid4()
    event = some.hex if engine.audit.db.dialect == "sqlite" else some
    params: list[object] = (
        [event, 1] * query.count("e.originator_id = ?")
        or ["x", 1] * query.count("aggregate = ?")
        or [1, 2]  # the quick scan's positions
    )
    with engine.audit.db.transaction(write=False) as tx:
        if engine.audit.db.dialect == "postgres":
            tx.execute("SET LOCAL enable_seqscan = off")
            return "|".join(str(row[0]) for row in tx.fetchall(f"EXPLAIN {query}", params))
        return "|".join(str(row[-1]) for row in tx.fetchall(f"EXPLAIN QUERY PLAN {query}", params))


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
