"""The startup heap of a long-running process is frozen out of the collector's way and its
young generation may grow before a collection, a rebuild's setting-aside leaves it frozen, and
a relay window's pause holds collections back only while it lasts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ks_engine.heap import (
    YOUNG_COLLECTION_THRESHOLD,
    collection_paused,
    freeze_startup_heap,
    heap_set_aside,
)


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Held:
    """An object the test holds (a container the collector tracks)."""


@contextmanager
def _collections_started() -> Iterator[list[int]]:
    """The generation of each collection started while the block runs."""
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        yield collections
    finally:
        gc.callbacks.remove(counted)


def test_the_startup_heap_is_left_out_of_collections() -> None:
    held = _Held()
    freeze_startup_heap()
    assert gc.get_freeze_count() > 0
    assert not any(o is held for o in gc.get_objects())  # frozen objects are not walked
    made_after = _Held()
    assert any(o is made_after for o in gc.get_objects())


def test_after_start_a_batch_of_live_objects_starts_no_young_collection() -> None:
    gc.set_threshold(700, 10, 10)  # CPython's default
    freeze_startup_heap()
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)  # the older ones kept
    with _collections_started() as collections:
        batch = [_Held() for _ in range(YOUNG_COLLECTION_THRESHOLD // 2)]  # alive until done
        assert collections == []  # with CPython's default, dozens had walked them
        del batch
        cycles = [_Held() for _ in range(YOUNG_COLLECTION_THRESHOLD)]
        for held in cycles:
            held.me = held  # type: ignore[attr-defined]
        del cycles, held
        _Held()
        assert collections  # past the threshold a young collection still runs


def test_a_set_aside_gives_back_what_was_not_frozen_before() -> None:
    with heap_set_aside():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_set_aside_keeps_a_frozen_startup_heap_frozen() -> None:
    freeze_startup_heap()
    with heap_set_aside():
        pass
    assert gc.get_freeze_count() > 0


def test_no_collection_runs_while_paused_and_what_cycles_remain_is_collected_after() -> None:
    with _collections_started() as collections:
        with collection_paused():
            assert not gc.isenabled()
            for _ in range(50_000):  # far past the threshold of a young collection
                cycle = _Held()
                cycle.me = cycle  # type: ignore[attr-defined]
            del cycle
            assert collections == []
        assert gc.isenabled()
        _Held()  # the next allocations start the collections that were held back
        gc.collect()
        assert collections
        assert not any(type(o) is _Held and getattr(o, "me", None) is o for o in gc.get_objects())


def test_a_pause_inside_a_disabled_collector_leaves_it_disabled() -> None:
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
