"""A long-running process's heap after start: frozen out of the garbage collector's way.

Once a process of `ks run` has imported its modules and built its components, almost every
object it holds lives as long as the process. CPython's full collection still walks all of
them each time: in an API worker that took 190-290 ms (measured with ``gc.callbacks``) every
1.5-2 s under load, with nothing to free, and every request in flight waited, as did the other
processes' writers while the worker held the event store's write lock. ``gc.freeze`` moves what
exists now into a generation the collector leaves alone; afterwards a full collection walks
only what was made since (5-36 ms in the same worker).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_startup_heap() -> None:
    """Collect once, then leave everything that survived out of later collections."""
    gc.collect()
    gc.freeze()


@contextmanager
def heap_set_aside() -> Iterator[None]:
    """For a long piece of work (a rebuild): what the process holds now is left out of the
    collections meanwhile, then given back; unless its startup heap was frozen already, which
    stays frozen (with what was made since: freed by reference counting as ever)."""
    frozen_before = gc.get_freeze_count() > 0
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


@contextmanager
def collection_paused() -> Iterator[None]:
    """For a short burst of work whose objects reference counting frees (a relay window:
    tens of thousands made and dropped within it): no collection runs meanwhile, so the
    collector never walks them while they are alive; what survives is collected as ever once
    the collector runs again. Process-wide: for processes that do only this work."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
