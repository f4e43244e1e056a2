"""Many rows in few statements on a real PostgreSQL server: the same tables as one statement
per row (``cursor.executemany``), for any batch, in any order, with keys repeated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence import multirow
from adapters.persistence.postgres import connect
from ks_engine.settings import Settings
from tests.postgres_server import PostgresDatabase

TABLES = (
    "CREATE TABLE keyed (k1 TEXT, k2 INT, v TEXT NOT NULL, n INT NOT NULL, PRIMARY KEY (k1, k2))",
    "CREATE TABLE unkeyed (k1 TEXT, k2 INT, v TEXT NOT NULL, n INT NOT NULL)",
)
SEEDED = [("a", 0, "seed", 1), ("b", 1, "seed", 2), ("c", 2, "seed", 3)]

STATEMENTS = {
    "overwrite": "INSERT INTO keyed (k1, k2, v, n) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (k1, k2) DO UPDATE SET v = excluded.v, n = excluded.n",
    # Order matters here: a key's rows are applied in turn, or the text comes out different
    "accumulate": "INSERT INTO keyed (k1, k2, v, n) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (k1, k2) DO UPDATE SET v = keyed.v || excluded.v, n = keyed.n + excluded.n",
    "first_wins": "INSERT INTO keyed (k1, k2, v, n) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (k1, k2) DO NOTHING",
    "any_rows": "INSERT INTO unkeyed (k1, k2, v, n) VALUES (%s, %s, %s, %s)",
}

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from("abcdef"),
        st.integers(0, 3),
        st.text(alphabet="xyz", min_size=1, max_size=3),
        st.integers(-5, 5),
    ),
    max_size=600,  # past the largest chunk (256) twice, with keys repeated many times
)


def _connection(database: PostgresDatabase, schema: str, data_dir: Path) -> psycopg.Connection[Any]:
    """The engine's own connection (``adapters.persistence.postgres.connect``), searching
    ``schema``."""
    settings = Settings(data_dir=data_dir, pg_schema=schema, **database.settings_fields())
    conn = connect(settings, autocommit=True)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return conn


@pytest.fixture
def connections(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> Iterator[dict[str, psycopg.Connection[Any]]]:
    """One connection per way of writing, each in its own schema with the same tables."""
    pair = {way: _connection(postgres_database, way, tmp_path) for way in ("per_row", "multirow")}
    for conn in pair.values():
        for ddl in TABLES:
            conn.execute(ddl)
    yield pair
    for conn in pair.values():
        conn.close()


def _write(conn: psycopg.Connection[Any], way: str, sql: str, rows: list[Any]) -> None:
    with conn.transaction(), conn.pipeline(), conn.cursor() as cur:  # as the engine writes
        if way == "per_row":
            if rows:
                cur.executemany(sql, rows)
        else:
            multirow.executemany(cur, sql, rows)


def _tables(conn: psycopg.Connection[Any]) -> dict[str, list[Any]]:
    return {
        table: conn.execute(f"SELECT k1, k2, v, n FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
        for table in ("keyed", "unkeyed")
    }


def _reset(conn: psycopg.Connection[Any]) -> None:
    conn.execute("TRUNCATE keyed, unkeyed")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO keyed VALUES (%s, %s, %s, %s)", SEEDED)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kind=st.sampled_from(sorted(STATEMENTS)), rows=rows_strategy)
def test_inserts_leave_what_one_statement_per_row_leaves(
    connections: dict[str, psycopg.Connection[Any]], kind: str, rows: list[Any]
) -> None:
    for way, conn in connections.items():
        _reset(conn)
        _write(conn, way, STATEMENTS[kind], rows)
    per_row, many = (_tables(conn) for conn in connections.values())
    assert many == per_row
    if kind == "any_rows":
        assert len(many["unkeyed"]) == len(rows)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gone=st.lists(st.sampled_from("abcdefg"), max_size=20),
    rows=rows_strategy,
)
def test_deletes_leave_what_one_statement_per_row_leaves(
    connections: dict[str, psycopg.Connection[Any]], gone: list[str], rows: list[Any]
) -> None:
    for way, conn in connections.items():
        _reset(conn)
        _write(conn, way, STATEMENTS["any_rows"], rows)
        _write(conn, way, "DELETE FROM unkeyed WHERE k1 = %s", [(k,) for k in gone])
        _write(conn, way, "DELETE FROM keyed WHERE k1 = %s", [(k,) for k in gone])
    per_row, many = (_tables(conn) for conn in connections.values())
    assert many == per_row
    assert not {row[0] for table in many.values() for row in table} & set(gone)


def test_a_key_twice_in_a_plain_insert_is_refused_as_row_by_row(
    connections: dict[str, psycopg.Connection[Any]],
) -> None:
    rows = [("z", 1, "x", 1)] * 2
    for way, conn in connections.items():
        _reset(conn)
        with pytest.raises(psycopg.errors.UniqueViolation):
            _write(conn, way, "INSERT INTO keyed (k1, k2, v, n) VALUES (%s, %s, %s, %s)", rows)
        assert _tables(conn)["keyed"] == sorted(SEEDED)  # nothing of the batch was kept
