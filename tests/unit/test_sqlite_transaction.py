"""A transaction whose rollback fails too gives up its connection (unit: the connection is a
stand-in that fails as SQLite does when its file is gone; giving it up is the caller's ``drop``)."""

from __future__ import annotations

import sqlite3

import pytest

from adapters.persistence.sqlite_transaction import ended_transaction


class BrokenConnection:
    """Fails ``fail_on`` statements and stays in its transaction, as SQLite does on such errors."""

    def __init__(self, *fail_on: str) -> None:
        self.fail_on, self.in_transaction, self.closed, self.statements = fail_on, False, False, []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if sql in self.fail_on:
            raise sqlite3.OperationalError(f"{sql} failed: disk I/O error")
        self.in_transaction = sql.startswith("BEGIN")

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("failing", [("COMMIT", "ROLLBACK"), ("ROLLBACK",)])
def test_a_connection_that_cannot_roll_back_is_given_up(failing: tuple[str, ...]) -> None:
    conn = BrokenConnection(*failing)
    dropped: list[bool] = []

    def transaction() -> None:
        with ended_transaction(conn, "BEGIN IMMEDIATE", lambda: dropped.append(True)):  # type: ignore[arg-type]
            if "COMMIT" not in failing:
                raise LookupError("the block failed")

    with pytest.raises((sqlite3.OperationalError, LookupError)):
        transaction()
    assert conn.statements[-1] == "ROLLBACK"
    assert dropped == [True]


@pytest.mark.parametrize("failing", [(), ("COMMIT",)])
def test_a_connection_rolled_back_is_kept(failing: tuple[str, ...]) -> None:
    conn = BrokenConnection(*failing)
    dropped: list[bool] = []
    try:
        with ended_transaction(conn, "BEGIN", lambda: dropped.append(True)):  # type: ignore[arg-type]
            pass
    except sqlite3.OperationalError:
        assert failing == ("COMMIT",)
    expected_end = "ROLLBACK" if failing else "COMMIT"
    assert conn.statements == ["BEGIN", "COMMIT"] + (["ROLLBACK"] if failing else [])
    assert conn.statements[-1] == expected_end
    assert (conn.closed, dropped, conn.in_transaction) == (False, [], False)
