"""A long-running process's heap after start: frozen out of the garbage collector's way.

Once a process of `ks run` has imported its modules and built its components, almost every
object it holds lives as long as the process. CPython's full collection still walks all of
them each time: in an API worker that took 190-290 ms (measured with ``gc.callbacks``) every
1.5-2 s under load, with nothing to free, and every request in flight waited, as did the other
processes' writers while the worker held the event store's write lock. ``gc.freeze`` moves what
exists now into a generation the collector leaves alone; afterwards a full collection walks
only what was made since (5-36 ms in the same worker).

Such a process then works in batches (a few hundred signals, a window of the log), whose
objects live until the batch is done. CPython starts a young collection once 700 more tracked
objects exist than at the last one, so it walked a batch's objects while they were alive and
moved them into the older generations, to be walked again. After start the young generation
may grow to ``YOUNG_COLLECTION_THRESHOLD``: a batch's objects are mostly freed by reference
counting before the collector sees them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Tracked objects made (and not freed) before a young collection, once a process has started
# (CPython's default: 700). Under `ks run`, 30,000 signals end to end, three alternating pairs
# each: 700 against 20,000 gave 1,992-2,036 against 2,068-2,101 signals/s; 20,000 against
# 50,000 gave 2,044-2,130 against 2,141-2,173; 700 against 50,000 gave 2,037-2,089 against
# 2,151-2,179, the intake's collections taking 0.80-0.85 against 0.16-0.19 s of its CPU.
YOUNG_COLLECTION_THRESHOLD = 50_000


def freeze_startup_heap() -> None:
    """Collect once, then leave everything that survived out of later collections, and let
    the young generation grow to ``YOUNG_COLLECTION_THRESHOLD``."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


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
