"""The startup heap of a long-running process is frozen out of the collector's way, and a
rebuild's setting-aside leaves it frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ks_engine.heap import freeze_startup_heap, heap_set_aside


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Held:
    """An object the test holds (a container the collector tracks)."""


def test_the_startup_heap_is_left_out_of_collections() -> None:
    held = _Held()
    freeze_startup_heap()
    assert gc.get_freeze_count() > 0
    assert not any(o is held for o in gc.get_objects())  # frozen objects are not walked
    made_after = _Held()
    assert any(o is made_after for o in gc.get_objects())


def test_a_set_aside_gives_back_what_was_not_frozen_before() -> None:
    with heap_set_aside():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_set_aside_keeps_a_frozen_startup_heap_frozen() -> None:
    freeze_startup_heap()
    with heap_set_aside():
        pass
    assert gc.get_freeze_count() > 0
