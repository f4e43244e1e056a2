"""Many rows in few PostgreSQL statements: what ``executemany`` does, in fewer executions.

psycopg's ``executemany`` runs its statement once per row. In pipeline mode that costs one
round trip, but the server still binds and executes each row on its own: in a run end to end
nearly every statement the server ran was one of these (a projector's batch wrote three view
rows per case, the sealer one chain link per event, the key store 1,000 keys at a time), and
writing them as below took about a fifth off the server's CPU (bench/NOTES.md).

Two shapes are rewritten; any other statement runs as before:

- ``INSERT INTO t (a, b, ...) VALUES (%s, %s, ...) [ON CONFLICT ...]`` becomes one
  ``INSERT`` of several rows, in chunks of fixed sizes (``CHUNKS``) so that each size is one
  prepared statement per connection. A row may name the same conflict key as an earlier row of
  the batch (one statement may not update a row twice): such rows go in a later statement, in
  their order, so every row is applied in turn, as ``executemany`` would.
- ``DELETE FROM t WHERE c = %s`` becomes ``DELETE FROM t WHERE c = ANY($1)``, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg

CHUNKS = (256, 64, 16, 4, 1)
"""The numbers of rows one statement takes; a batch is cut into the largest that fit."""
MAX_PARAMETERS = 65_535
"""The most parameters PostgreSQL binds to one statement: a size over it is not used."""

_INSERT = re.compile(
    r"\s*(?P<head>INSERT\s+INTO\s+[\w\".]+\s*\((?P<columns>[^()]*)\))\s*"
    r"VALUES\s*\((?P<values>[^()]*)\)(?P<tail>.*)",
    re.IGNORECASE | re.DOTALL,
)
_CONFLICT = re.compile(r"\bON\s+CONFLICT\s*\((?P<keys>[^()]*)\)", re.IGNORECASE)
_DELETE = re.compile(
    r"\s*(?P<head>DELETE\s+FROM\s+[\w\".]+\s+WHERE\s+[\w\"]+\s*)=\s*%s\s*",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class _Insert:
    head: str
    width: int
    tail: str
    keys: tuple[int, ...] | None  # positions of the conflict target in a row


@lru_cache(maxsize=256)
def _rows_statement(insert: _Insert, rows: int) -> str:
    marks = iter(range(1, rows * insert.width + 1))
    values = ", ".join(
        "(" + ", ".join(f"${next(marks)}" for _ in range(insert.width)) + ")" for _ in range(rows)
    )
    return f"{insert.head} VALUES {values}{insert.tail}"


@lru_cache(maxsize=256)
def _insert_of(sql: str) -> _Insert | None:
    match = _INSERT.fullmatch(sql)
    if match is None:
        return None
    columns = [c.strip().strip('"') for c in match["columns"].split(",")]
    values = [v.strip() for v in match["values"].split(",")]
    if values != ["%s"] * len(columns):
        return None  # an expression among the values: left as it is
    tail = match["tail"]
    keys: tuple[int, ...] | None = None
    if re.search(r"\bON\s+CONFLICT\b", tail, re.IGNORECASE):
        conflict = _CONFLICT.search(tail)
        if conflict is None:
            return None  # a conflict without a named target: rows may collide unseen
        named = [k.strip().strip('"') for k in conflict["keys"].split(",")]
        if not set(named) <= set(columns):
            return None
        keys = tuple(columns.index(k) for k in named)
    return _Insert(_native(match["head"]), len(columns), _native(tail), keys)


@lru_cache(maxsize=256)
def _delete_of(sql: str) -> str | None:
    match = _DELETE.fullmatch(sql)
    return None if match is None else f"{_native(match['head'])}= ANY($1)"


def _native(pyformat: str) -> str:
    return pyformat.replace("%%", "%")


Statement = tuple[str, list[Any]]


def statements(sql: str, rows: Sequence[Sequence[Any]]) -> list[Statement] | None:
    """The statements, in PostgreSQL's own ``$n`` placeholders, that have the effect of running
    ``sql`` (psycopg's ``%s`` style) once for each of ``rows``; ``None`` for a statement of
    another shape, to be run once per row."""
    delete = _delete_of(sql)
    if delete is not None and all(len(r) == 1 for r in rows):
        return [(delete, [[r[0] for r in rows]])]
    insert = _insert_of(sql)
    if insert is None or len(rows) <= 1 or any(len(r) != insert.width for r in rows):
        return None
    return [statement for wave in _waves(rows, insert.keys) for statement in _chunks(insert, wave)]


def executemany(cursor: psycopg.Cursor[Any], sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``cursor.executemany(sql, rows)`` in as few statements as its shape allows. They are
    sent in PostgreSQL's own placeholders (a ``RawCursor``): psycopg keeps its translation of
    ``%s`` only for statements of at most 50 parameters, and would redo it for each chunk."""
    if not rows:
        return
    planned = statements(sql, rows)
    if planned is None:
        cursor.executemany(sql, rows)
        return
    with psycopg.RawCursor(cursor.connection) as raw:
        for statement, params in planned:
            raw.execute(statement, params)


def _waves(
    rows: Sequence[Sequence[Any]], keys: tuple[int, ...] | None
) -> list[Sequence[Sequence[Any]]]:
    """The rows in turns in which no conflict key comes twice: a key's n-th row in the n-th."""
    if keys is None:
        return [rows]
    waves: list[list[Sequence[Any]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row[i] for i in keys)
        turn = seen.get(key, 0)
        seen[key] = turn + 1
        if turn == len(waves):
            waves.append([])
        waves[turn].append(row)
    return list(waves)


def _chunks(insert: _Insert, rows: Sequence[Sequence[Any]]) -> Iterator[Statement]:
    start = 0
    for size in CHUNKS:
        if size * insert.width > MAX_PARAMETERS and size > 1:
            continue
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            yield _rows_statement(insert, size), [value for row in chunk for value in row]
            start += size
