"""Turns at storing signals, taken by the intakes that share one event store.

Two intakes on one consumer (the production arrangement runs two) each store a batch of
signals in one transaction. When one commits between the other's reading and its commit, the
store refuses the other's batch and it is stored again (``ks_engine.signal_intake``): correct,
but in a burst that happened in most batches, and each refusal repeats a whole batch's work.
Taking turns, one intake stores while the other reads and checks its next batch, and neither's
work is thrown away.

A turn only saves work; correctness never rests on it. A turn not had within
``WAIT_SECONDS`` (an intake stuck while storing, a lost connection, a session the server still
keeps for a machine that is gone) is gone without, and so is every turn for the next
``PAUSE_SECONDS``, so that a lock nobody gives back costs one wait, not one per batch: the store
still refuses a batch that raced, and the intake stores it again. On SQLite the turn is a lock
on a file beside the store (the processes share the machine); on PostgreSQL a session advisory
lock on a connection of its own (the intakes may run on several machines). Both are released
by the operating system or the server when a process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger("ks.intake")

WAIT_SECONDS = 5.0  # longer than any batch's store takes; then the intake stores without
PAUSE_SECONDS = 60.0  # after a turn not had, turns are gone without for this long
POLL_SECONDS = 0.001
# Any fixed number will do: every intake on the store takes turns on the same lock.
_TURN_KEY = 0x6B73_7475_726E_7331  # "ksturns1"


class StoreTurns(Protocol):
    """One turn at a time at storing signals, among the intakes sharing a store."""

    def turn(self) -> AbstractContextManager[bool]:
        """Hold the turn within (True), or go on without it (False): after ``WAIT_SECONDS``,
        or at once for ``PAUSE_SECONDS`` after a turn was not had."""

    def close(self) -> None: ...


class NoTurns:
    """The in-memory store: one process, one intake; nothing to take turns at."""

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        yield False

    def close(self) -> None:
        return None


class _Turns:
    """Waiting for a turn, and pausing after one not had; the lock itself is the subclass's."""

    def __init__(self, wait: float = WAIT_SECONDS, pause: float = PAUSE_SECONDS) -> None:
        self.wait = wait
        self.pause = pause
        self._paused_until = 0.0

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        held = time.monotonic() >= self._paused_until and self._take()
        try:
            yield held
        finally:
            if held:
                self._give_back()

    def _not_had(self, **why: Any) -> bool:
        self._paused_until = time.monotonic() + self.pause
        log.warning("intake.turn_not_had", waited_s=self.wait, paused_s=self.pause, **why)
        return False

    def _take(self) -> bool:
        raise NotImplementedError

    def _give_back(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class FileTurns(_Turns):
    """Turns on an SQLite store: an exclusive lock on ``path``, beside the store's file."""

    def __init__(self, path: Path, wait: float = WAIT_SECONDS, pause: float = PAUSE_SECONDS):
        super().__init__(wait, pause)
        self.path = path
        self._fd: int | None = None

    def _take(self) -> bool:
        deadline = time.monotonic() + self.wait
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return self._not_had()
                    time.sleep(POLL_SECONDS)
        except OSError as exc:  # the file cannot be had at all: store without turns
            self.close()
            return self._not_had(error=type(exc).__name__)

    def _give_back(self) -> None:
        if self._fd is None:
            return  # closed meanwhile: the lock went with the file
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        except OSError:
            self.close()  # closing the file releases the lock

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # releases the lock too
            self._fd = None


class PostgresTurns(_Turns):
    """Turns on a PostgreSQL store: a session advisory lock on a connection of its own."""

    def __init__(
        self, connect: Callable[[], Any], wait: float = WAIT_SECONDS, pause: float = PAUSE_SECONDS
    ) -> None:
        super().__init__(wait, pause)
        self._connect = connect  # an autocommit psycopg connection
        self._conn: Any = None

    def _take(self) -> bool:
        import psycopg

        from adapters.persistence.postgres import PostgresUnavailableError

        for fresh in (self._conn is None, True):  # a kept connection may have been lost
            try:
                if self._conn is None:
                    self._conn = self._connect()
                    self._conn.execute(f"SET lock_timeout = {int(self.wait * 1000)}")
                self._conn.execute("SELECT pg_advisory_lock(%s)", (_TURN_KEY,))
                return True
            except psycopg.errors.LockNotAvailable:
                return self._not_had()
            except (psycopg.Error, OSError, PostgresUnavailableError) as exc:
                self.close()  # the server released whatever the lost session held
                if fresh:
                    return self._not_had(error=type(exc).__name__)
        return False

    def _give_back(self) -> None:
        import psycopg

        if self._conn is None:
            return  # lost meanwhile: the server released the lock with the session
        try:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (_TURN_KEY,))
        except (psycopg.Error, OSError):
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
