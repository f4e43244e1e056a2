"""Intakes sharing a store take turns at storing (``adapters.persistence.store_turns``), as the
composition root gives them, on a real SQLite file and a real PostgreSQL server: one turn at a
time, a waiting intake has the turn once it is given back, one not had in time is gone
without (and so are the next ones for a while), and a holder that dies gives it back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.persistence.postgres import connect
from adapters.persistence.store_turns import FileTurns, StoreTurns
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings

SHORT = 0.2  # seconds an intake waits for the turn in these tests


@pytest.fixture
def store(durable_settings: Settings) -> Iterator[Engine]:
    engine = bootstrap(durable_settings, configure_logs=False)
    yield engine
    engine.close()


def turns_of(engine: Engine, wait: float = SHORT, pause: float = 0.0) -> StoreTurns:
    """What one intake on the store takes turns with."""
    turns = engine.store_turns()
    turns.wait = wait  # type: ignore[attr-defined]
    turns.pause = pause  # type: ignore[attr-defined]
    return turns


def test_one_intake_at_a_time_has_the_turn(store: Engine) -> None:
    first, second = turns_of(store), turns_of(store)
    try:
        with first.turn() as held:
            assert held
            with second.turn() as other_held:
                assert not other_held  # not had within its wait: it goes on without
        with second.turn() as other_held:
            assert other_held  # given back: the other has it
    finally:
        first.close()
        second.close()


def test_after_a_turn_not_had_the_intake_goes_without_for_a_while(store: Engine) -> None:
    first, second = turns_of(store), turns_of(store, pause=0.5)
    try:
        with first.turn() as held:
            assert held
            with second.turn() as other_held:
                assert not other_held
        with second.turn() as other_held:
            assert not other_held  # nobody holds it: gone without, for the pause
        time.sleep(0.6)
        with second.turn() as other_held:
            assert other_held  # the pause is over
    finally:
        first.close()
        second.close()


def test_a_waiting_intake_has_the_turn_once_it_is_given_back(store: Engine) -> None:
    first, second = turns_of(store), turns_of(store, wait=30)
    order: list[str] = []
    taken = threading.Event()

    def wait_for_turn() -> None:
        taken.wait()
        with second.turn() as held:
            order.append(f"second {held}")

    waiting = threading.Thread(target=wait_for_turn)
    waiting.start()
    try:
        with first.turn() as held:
            assert held
            taken.set()
            waiting.join(timeout=SHORT)  # the other is still waiting
            assert waiting.is_alive()
            order.append("first gives back")
        waiting.join(timeout=30)
        assert order == ["first gives back", "second True"]
    finally:
        taken.set()
        waiting.join(timeout=30)
        first.close()
        second.close()


def test_a_holder_that_dies_gives_the_turn_back(store: Engine) -> None:
    first, second = turns_of(store), turns_of(store)
    try:
        turn = first.turn()
        assert turn.__enter__()
        died(store.settings, first)
        with second.turn() as held:
            assert held
        turn.__exit__(None, None, None)  # the holder's own giving back finds nothing to give
        with first.turn() as held_again:  # a new connection or file, after the loss
            assert held_again
    finally:
        first.close()
        second.close()


def died(settings: Settings, turns: StoreTurns) -> None:
    """What the operating system or the server does when the holder's process ends: its file
    closed, or its session ended."""
    if settings.store != "postgres":
        turns.close()
        return
    holder = turns._conn  # type: ignore[attr-defined]
    pid = holder.info.backend_pid
    with connect(settings, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_turn_file_that_cannot_be_opened_leaves_the_intake_storing_without_turns(
    tmp_path: Path,
) -> None:
    """A turn only saves work: when the file beside the store cannot be had (here a directory
    stands in its place), the intake goes on without the turn instead of failing the batch."""
    engine = bootstrap(Settings(data_dir=tmp_path, log_level="warning"), configure_logs=False)
    try:
        turns = turns_of(engine)
        assert isinstance(turns, FileTurns)
        turns.path.mkdir()  # os.open(..., O_RDWR) on a directory: IsADirectoryError
        with turns.turn() as held:
            assert not held
        turns.close()
    finally:
        engine.close()
