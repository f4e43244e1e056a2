"""Which statements ``multirow`` rewrites, and into how many executions (a recording cursor;
what the rewritten statements leave in a real database is tested in the integration tests)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.persistence import multirow

UPSERT = (
    "INSERT INTO work_queue (case_id, state, doc) VALUES (%s, %s, %s)"
    " ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, doc = excluded.doc"
)


class RecordingCursor:
    def __init__(self) -> None:
        self.executed: list[tuple[str, Any]] = []
        self.many: list[tuple[str, list[Any]]] = []

    def execute(self, query: Any, params: Any = None, /) -> None:
        self.executed.append((query, params))

    def executemany(self, query: Any, params_seq: Any, /) -> None:
        self.many.append((query, list(params_seq)))


def _rows(n: int, *, keys: int | None = None) -> list[tuple[str, str, str]]:
    return [(f"c{i if keys is None else i % keys}", "signalled", f"doc{i}") for i in range(n)]


@given(st.integers(2, 1500))
def test_a_batch_of_distinct_keys_goes_in_the_fewest_chunks(n: int) -> None:
    cursor = RecordingCursor()
    multirow.executemany(cursor, UPSERT, _rows(n))
    sizes = [len(params) // 3 for _, params in cursor.executed]
    assert sum(sizes) == n
    assert all(size in multirow.CHUNKS for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # Fewest: of each size below the largest, fewer than would make up the next one
    for smaller, larger in zip(multirow.CHUNKS[1:], multirow.CHUNKS, strict=False):
        assert sizes.count(smaller) * smaller < larger
    # Every value once, in the order given
    assert [v for _, params in cursor.executed for v in params] == [
        v for row in _rows(n) for v in row
    ]
    assert not cursor.many


def test_one_statement_names_as_many_rows_as_it_binds() -> None:
    cursor = RecordingCursor()
    multirow.executemany(cursor, UPSERT, _rows(4))
    ((statement, params),) = cursor.executed
    assert statement.count("%s") == len(params) == 12
    assert statement.startswith(
        "INSERT INTO work_queue (case_id, state, doc) VALUES (%s, %s, %s), ("
    )
    assert statement.endswith(
        " ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, doc = excluded.doc"
    )


@given(st.integers(2, 600), st.integers(1, 40))
def test_a_key_repeated_waits_for_a_later_statement(n: int, keys: int) -> None:
    cursor = RecordingCursor()
    rows = _rows(n, keys=keys)
    multirow.executemany(cursor, UPSERT, rows)
    statements = [params for _, params in cursor.executed]
    assert sum(len(p) for p in statements) == 3 * n
    for params in statements:
        ids = params[0::3]
        assert len(ids) == len(set(ids)), "a statement may not update one row twice"
    # each key's rows in their order
    seen = [v for params in statements for v in params[2::3]]
    for key in {r[0] for r in rows}:
        mine = [r[2] for r in rows if r[0] == key]
        assert [d for d in seen if d in set(mine)] == mine


def test_deletes_by_one_column_go_in_one_statement() -> None:
    cursor = RecordingCursor()
    multirow.executemany(
        cursor, "DELETE FROM transfer_requests WHERE case_id = %s", [("a",), ("b",)]
    )
    assert cursor.executed == [
        ("DELETE FROM transfer_requests WHERE case_id = ANY(%s)", (["a", "b"],))
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
    cursor = RecordingCursor()
    rows = [("x", "y")] * 3 if sql.count("%s") == 2 else [("x",)] * 3
    multirow.executemany(cursor, sql, rows)
    assert cursor.many == [(sql, rows)]
    assert not cursor.executed


def test_nothing_to_write_runs_nothing() -> None:
    cursor = RecordingCursor()
    multirow.executemany(cursor, UPSERT, [])
    assert not cursor.executed
    assert not cursor.many
