"""The same promise on a real PostgreSQL server: changing any column of the event store's rows
or of the audit tables is reported by `ks audit verify`, naming the column; putting the value
back makes the history verify again. Columns are read from the database's own schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg

from adapters.persistence.postgres import connect
from ks_engine.audit import chain
from ks_engine.audit.findings import Report
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play

EVENTS = "referrals_events"
KEYS = {EVENTS: "notification_id", "audit_chain": "position", "audit_checkpoints": "position"}
NOT_RELIED_ON = {("audit_checkpoints", "published")}
NAMED = {
    (EVENTS, "notification_id"): "(the notification id)",
    ("audit_chain", "position"): "(position)",
}
Cursor = psycopg.Cursor[Any]


def _flip(value: Any) -> Any:
    state = bytearray(value)
    state[len(state) // 2] ^= 0x10
    return bytes(state)


def _new_value(cur: Cursor, table: str, column: str, old: Any, row: int) -> Any:
    """Another value of the column's type, as someone with the database could write."""
    top = cur.execute(f"SELECT MAX({KEYS[table]}) FROM {table}").fetchone()[0]
    if column in ("notification_id", "position") and table != "audit_checkpoints":
        return top + 7
    if column == "position":
        return row - 1
    if column == "originator_id":
        return uuid4()
    if column == "state":
        return _flip(old)
    if column in ("originator_version", "version", "events"):
        return old + 1000
    if column == "topic":
        return old.replace("Referral.", "Referral.Forged") if "Referral." in old else old + "X"
    if column in ("sealed_at", "signed_at"):
        return "2025-01-01T00:00:00+00:00"
    if column == "chain_format":
        return 1
    if column == "key_fingerprint":
        return "0" * 16
    if column == "signature":
        return cur.execute(
            "SELECT signature FROM audit_checkpoints WHERE position <> %s LIMIT 1", (row,)
        ).fetchone()[0]
    if column == "published":
        return 1 - old
    return chain.sha256(b"forged " + str(old).encode())  # the hash columns


def columns(cur: Cursor) -> list[tuple[str, str]]:
    rows = cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(%s)"
        " ORDER BY table_name, ordinal_position",
        (list(KEYS),),
    ).fetchall()
    return [(str(t), str(c)) for t, c in rows]


def test_a_change_to_any_column_on_postgres_is_reported_naming_the_column(
    postgres_settings: Settings, clock: FixedClock
) -> None:
    # Given a store on PostgreSQL with cases, sealed, and two signed checkpoints
    engine = bootstrap(postgres_settings, clock=clock, configure_logs=False)
    try:
        for seed in (41, 42):
            play(engine.referrals, clock, seed=seed, steps=12)
            engine.audit.sealer.seal_pending()
            assert engine.audit.sealer.checkpoint() is not None
        key = engine.audit.signing_key.public_key()

        def verify() -> Report:
            return Verifier(engine.referrals, engine.audit.chain, [key], grace_seconds=0).verify()

        assert verify().intact
        with connect(postgres_settings, autocommit=True) as conn, conn.cursor() as cur:
            found = columns(cur)
            assert {t for t, _ in found} == set(KEYS)
            for table, column in found:
                _check_one(cur, table, column, verify)
    finally:
        engine.close()


def _check_one(cur: Cursor, table: str, column: str, verify: Callable[[], Report]) -> None:
    key = KEYS[table]
    rows = [r[0] for r in cur.execute(f"SELECT {key} FROM {table} ORDER BY {key}").fetchall()]
    row = rows[len(rows) // 2] if table != "audit_checkpoints" else rows[-1]
    old = cur.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", (row,)).fetchone()[0]
    new = _new_value(cur, table, column, old, row)
    # When one row's column is changed
    cur.execute(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", (new, row))
    moved = row if column != key else new
    try:
        report = verify()
    finally:  # Put it back
        cur.execute(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", (old, moved))
    # Then it is reported, naming the column (unless verify does not rely on it)
    if (table, column) in NOT_RELIED_ON:
        assert report.intact, (table, column, report.problems)
    else:
        messages = [p.message for p in report.problems]
        token = NAMED.get((table, column), f"({column})")
        assert any(token in m for m in messages), (table, column, messages)
    # And with the value back, the history verifies again
    again = verify()
    assert again.intact, (table, column, again.problems)
