"""Which statements ``multirow`` rewrites, and into which (what the rewritten statements leave
in a real database is tested in the integration tests)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.persistence import multirow

UPSERT = (
    "INSERT INTO work_queue (case_id, state, doc) VALUES (%s, %s, %s)"
    " ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, doc = excluded.doc"
)


def _rows(n: int, *, keys: int | None = None) -> list[tuple[str, str, str]]:
    return [(f"c{i if keys is None else i % keys}", "signalled", f"doc{i}") for i in range(n)]


def _planned(sql: str, rows: Sequence[Sequence[object]]) -> list[multirow.Statement]:
    planned = multirow.statements(sql, rows)
    assert planned is not None
    return planned


@given(st.integers(2, 1500))
def test_a_batch_of_distinct_keys_goes_in_the_fewest_chunks(n: int) -> None:
    planned = _planned(UPSERT, _rows(n))
    sizes = [len(params) // 3 for _, params in planned]
    assert sum(sizes) == n
    assert all(size in multirow.CHUNKS for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # Fewest: of each size below the largest, fewer than would make up the next one
    for smaller, larger in zip(multirow.CHUNKS[1:], multirow.CHUNKS, strict=False):
        assert sizes.count(smaller) * smaller < larger
    # Every value once, in the order given
    assert [v for _, params in planned for v in params] == [v for row in _rows(n) for v in row]


def test_a_statement_numbers_as_many_placeholders_as_it_binds() -> None:
    ((statement, params),) = _planned(UPSERT, _rows(4))
    assert re.findall(r"\$(\d+)", statement) == [str(i) for i in range(1, 13)]
    assert len(params) == 12
    assert "%s" not in statement
    assert statement.startswith(
        "INSERT INTO work_queue (case_id, state, doc) VALUES ($1, $2, $3), ($4, $5, $6), ("
    )
    assert statement.endswith(
        " ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, doc = excluded.doc"
    )


def test_a_percent_sign_escaped_for_psycopg_is_sent_as_one() -> None:
    sql = "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO UPDATE SET b = t.b || '%%'"
    ((statement, _),) = _planned(sql, [("w", "1"), ("x", "2"), ("y", "3"), ("z", "4")])
    assert statement.endswith("SET b = t.b || '%'")


@given(st.integers(2, 600), st.integers(1, 40))
def test_a_key_repeated_waits_for_a_later_statement(n: int, keys: int) -> None:
    rows = _rows(n, keys=keys)
    planned = [params for _, params in _planned(UPSERT, rows)]
    assert sum(len(p) for p in planned) == 3 * n
    for params in planned:
        ids = params[0::3]
        assert len(ids) == len(set(ids)), "a statement may not update one row twice"
    # each key's rows in their order
    seen = [v for params in planned for v in params[2::3]]
    for key in {r[0] for r in rows}:
        mine = [r[2] for r in rows if r[0] == key]
        assert [d for d in seen if d in set(mine)] == mine


def test_deletes_by_one_column_go_in_one_statement() -> None:
    sql = "DELETE FROM transfer_requests WHERE case_id = %s"
    assert multirow.statements(sql, [("a",), ("b",)]) == [
        ("DELETE FROM transfer_requests WHERE case_id = ANY($1)", [["a", "b"]])
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE work_queue SET state = %s WHERE case_id = %s",
        "INSERT INTO t (a, b) VALUES (%s, now())",  # an expression among the values
        "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING",  # no named target
        "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (c) DO NOTHING",  # not a column given
        "INSERT INTO t (a, b) SELECT %s, %s",
        "DELETE FROM t WHERE a = %s AND b = %s",
    ],
)
def test_other_statements_run_once_per_row(sql: str) -> None:
    rows = [("x", "y")] * 3 if sql.count("%s") == 2 else [("x",)] * 3
    assert multirow.statements(sql, rows) is None


def test_one_row_runs_as_it_is() -> None:
    assert multirow.statements(UPSERT, _rows(1)) is None


def test_no_statement_binds_more_parameters_than_postgresql_takes() -> None:
    columns = ", ".join(f"c{i}" for i in range(300))
    sql = f"INSERT INTO wide ({columns}) VALUES ({', '.join(['%s'] * 300)})"
    rows = [tuple(range(300))] * 700
    planned = _planned(sql, rows)
    assert all(len(params) <= multirow.MAX_PARAMETERS for _, params in planned)
    assert sum(len(params) for _, params in planned) == 300 * 700
