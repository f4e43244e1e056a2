"""The intake's batch reads on PostgreSQL search the events' primary key once per id, and the
audit chain's lookup of links by event its primary key once per event, at any size of the
tables and whether or not they have been analysed.

Written as one join or as ``= ANY``, these reads were planned from the table's statistics;
a table not yet analysed (a young store, or one growing faster than autovacuum looks) was read
whole for every batch. The statements are explained here as the code runs them, on a table of
some tens of thousands of events, before and after ``ANALYZE``, for batches of a few to many
ids, most of them absent (most signals are about people not seen before).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.postgres import PostgresAggregateRecorder

from adapters.persistence.existing import existing_originators
from adapters.persistence.existing_postgres import EXISTING
from adapters.persistence.postgres import connect
from adapters.persistence.read_many import events_after, latest_events
from adapters.persistence.read_many_postgres import EVENTS_AFTER, LATEST, on_events_table
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.postgres_server import PostgresServer

AGGREGATES = 30_000  # two events each: a table the planner, unguided, would read whole
TOPIC = "domain.referral:Referral.Signalled"


@pytest.fixture(scope="module", params=[False, True], ids=["not analysed", "analysed"])
def filled(
    request: pytest.FixtureRequest,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    """An engine on PostgreSQL whose events table holds ``AGGREGATES`` aggregates of two
    events each, each event sealed by a link of the audit chain: not analysed (autovacuum kept
    off both tables), as a store is before its first look, or analysed."""
    database = postgres_server.create_database()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("plans"), log_level="warning", **database.settings_fields()
    )
    engine = bootstrap(settings, configure_logs=False)
    recorder = engine.referrals.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    table = on_events_table(recorder, "{schema}.{table}")
    with connect(settings, autocommit=True) as conn:
        for name in (table, psycopg.sql.Identifier("audit_chain")):
            conn.execute(
                psycopg.sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)").format(name)
            )
        conn.execute(
            psycopg.sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state)"
                " SELECT gen_random_uuid(), v, %s, decode(repeat('ab', 400), 'hex')"
                " FROM generate_series(1, %s), generate_series(1, 2) v"
            ).format(table),
            (TOPIC, AGGREGATES),
        )
        conn.execute(
            psycopg.sql.SQL(
                "INSERT INTO audit_chain (position, aggregate, version, topic, state_hash,"
                " summary_hash, prev_in_aggregate, prev, link_hash, sealed_at)"
                " SELECT notification_id, originator_id::text, originator_version, topic,"
                " 's', 's', 'p', 'p', 'l', 'then' FROM {}"
            ).format(table)
        )
        if request.param:
            conn.execute(psycopg.sql.SQL("ANALYZE {}").format(table))
            conn.execute("ANALYZE audit_chain")
    yield engine
    engine.close()


def _stored_ids(engine: Engine, count: int) -> list[UUID]:
    recorder = engine.referrals.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    with connect(engine.settings) as conn:
        rows = conn.execute(
            on_events_table(recorder, "SELECT originator_id FROM {schema}.{table} LIMIT %s"),
            (count * 2,),
        ).fetchall()
    return list(dict.fromkeys(UUID(str(r[0])) for r in rows))[:count]


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _scans(engine: Engine, query: str, params: list[Any]) -> set[tuple[str, str | None]]:
    """The scans of the events table in the plan of ``query`` as the code runs it."""
    recorder = engine.referrals.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    statement = psycopg.sql.SQL("EXPLAIN (FORMAT JSON) ") + on_events_table(recorder, query)
    with connect(engine.settings) as conn:
        row = conn.execute(statement, params).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    return {
        (node["Node Type"], node.get("Index Name"))
        for node in _plan_nodes(plan)
        if node.get("Relation Name") == recorder.events_table_name
    }


@pytest.mark.parametrize("wanted", [3, 40, 200, 500])
def test_each_batch_read_searches_the_primary_key_per_id(filled: Engine, wanted: int) -> None:
    rng = random.Random(wanted)
    present = _stored_ids(filled, wanted // 3 + 1)
    ids = [*present, *(uuid4() for _ in range(wanted - len(present)))]
    rng.shuffle(ids)
    versions = [rng.randint(0, 1) for _ in ids]

    for query, params in (
        (EVENTS_AFTER, [ids, versions]),
        (LATEST, [ids]),
        (EXISTING, [ids]),
    ):
        scans = _scans(filled, query, params)
        kinds = {kind for kind, _ in scans}
        assert "Seq Scan" not in kinds, f"{query[:40]}... reads the whole table: {scans}"
        assert scans <= {
            ("Index Scan", "referrals_events_pkey"),
            ("Index Only Scan", "referrals_events_pkey"),
            ("Bitmap Heap Scan", None),
        }, scans


def test_the_batch_reads_find_what_reading_each_id_alone_finds(filled: Engine) -> None:
    recorder = filled.referrals.recorder
    present = _stored_ids(filled, 60)
    absent = [uuid4() for _ in range(140)]
    rng = random.Random(3)
    after = {i: rng.randint(0, 2) for i in [*present, *absent]}

    expected_after = {
        i: found for i, v in after.items() if (found := list(recorder.select_events(i, gt=v)))
    }
    expected_latest = {
        i: found[0] for i in after if (found := list(recorder.select_events(i, desc=True, limit=1)))
    }

    assert expected_after, "some of the asked ids have events past the asked versions"
    assert events_after(recorder, after) == expected_after
    assert latest_events(recorder, [*after, *present]) == expected_latest
    assert existing_originators(recorder, [*after, *present]) == set(present)


def test_the_event_stores_connections_compile_no_statement(filled: Engine) -> None:
    """On a table not analysed the batch read's estimate passes PostgreSQL's JIT threshold
    many times over; the store's own connections run it without compiling."""
    recorder = filled.referrals.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    ids = [*_stored_ids(filled, 100), *(uuid4() for _ in range(400))]
    explain = psycopg.sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + on_events_table(
        recorder, EVENTS_AFTER
    )
    with recorder.datastore.get_connection() as conn:
        jit = conn.execute("SHOW jit").fetchone()
        row = conn.execute(explain, [ids, [0] * len(ids)]).fetchone()
    assert row is not None
    (result,) = row["QUERY PLAN"]
    assert "JIT" not in result, result["JIT"]
    assert jit is not None
    assert jit["jit"] == "off"


@pytest.mark.parametrize("wanted", [3, 40, 200])
def test_the_chains_lookup_by_event_searches_both_primary_keys(filled: Engine, wanted: int) -> None:
    # As one join, a chain not yet analysed was read whole and hashed for every lookup.
    store = filled.audit.chain
    assert store.events is not None
    present = _stored_ids(filled, wanted // 2 + 1)
    pairs = [(str(i), 1) for i in present] + [(str(uuid4()), 1) for _ in range(wanted)]
    pairs = pairs[:wanted]
    params = [value for a, v in pairs for value in (store.events.id_param(a), v)]
    with filled.audit.db.transaction(write=False) as tx:
        (row,) = tx.fetchall(f"EXPLAIN (FORMAT JSON) {store.events.links_query(wanted)}", params)
    nodes = list(_plan_nodes(row[0][0]["Plan"]))
    scans = {(n["Node Type"], n.get("Relation Name")) for n in nodes if "Relation Name" in n}
    assert not [scan for scan in scans if scan[0] == "Seq Scan"], scans
    assert ("Index Scan", "audit_chain") in scans, scans

    found = store.links_of(pairs)
    assert set(found) == {(str(i), 1) for i in present if (str(i), 1) in pairs}
    assert all(link.version == 1 and link.topic == TOPIC for link in found.values())
