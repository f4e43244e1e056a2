"""The API's access-log entries are stored in groups, each request awaiting its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from adapters.http.access_writer import AccessWriter
from ks_engine.access_log import AccessRecord


def _record(n: int) -> AccessRecord:
    return AccessRecord(entry={"n": n})


class _Store:
    """Stores in a worker thread; the first call waits until released, so that the entries
    of the requests arriving meanwhile gather."""

    def __init__(self, fail: bool = False) -> None:
        self.groups: list[list[int]] = []
        self.release = threading.Event()
        self.fail = fail
        self._next = 100

    def __call__(self, records: Sequence[AccessRecord]) -> list[int]:
        self.release.wait(5)
        self.groups.append([r.entry["n"] for r in records])
        if self.fail:
            raise RuntimeError("the disk is full")
        start, self._next = self._next, self._next + len(records)
        return list(range(start, start + len(records)))


async def _gathered(writer: AccessWriter, store: _Store, count: int) -> list[int | BaseException]:
    first = asyncio.ensure_future(writer.write(_record(0)))
    await asyncio.sleep(0.05)  # the first group is being stored
    rest = [asyncio.ensure_future(writer.write(_record(n))) for n in range(1, count)]
    await asyncio.sleep(0)
    store.release.set()
    return list(await asyncio.gather(first, *rest, return_exceptions=True))


def test_entries_arriving_during_a_store_are_stored_together_each_with_its_position() -> None:
    store = _Store()
    writer = AccessWriter(store)

    positions = asyncio.run(_gathered(writer, store, 20))

    assert store.groups == [[0], list(range(1, 20))]
    assert positions == list(range(100, 120))


def test_a_failed_store_fails_every_request_of_its_group() -> None:
    store = _Store(fail=True)
    writer = AccessWriter(store)

    outcomes = asyncio.run(_gathered(writer, store, 5))

    assert len(outcomes) == 5
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_a_request_that_goes_away_leaves_the_others_answered_and_its_entry_stored() -> None:
    store = _Store()
    writer = AccessWriter(store)

    async def scenario() -> list[int]:
        first = asyncio.ensure_future(writer.write(_record(0)))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(writer.write(_record(1)))
        stays = asyncio.ensure_future(writer.write(_record(2)))
        await asyncio.sleep(0)
        gone.cancel()
        store.release.set()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return [await first, await stays]

    assert asyncio.run(scenario()) == [100, 102]
    assert store.groups == [[0], [1, 2]]


def test_the_writer_starts_again_after_a_quiet_spell() -> None:
    store = _Store()
    store.release.set()
    writer = AccessWriter(store)

    async def two_spells() -> list[int]:
        first = await writer.write(_record(0))
        await asyncio.sleep(0.01)
        return [first, await writer.write(_record(1))]

    assert asyncio.run(two_spells()) == [100, 101]
    assert store.groups == [[0], [1]]
