"""The access-log entries of concurrent requests, stored together from the event loop.

Each request awaits its own entry: no answer is given before its access is logged. While one
group is being stored (in a worker thread: the commit waits on the disk), the entries of the
requests answered meanwhile gather for the next group. So a group costs one hand-over to a
thread and back, where before each request took one, waited there on a lock, and every waiting
thread was woken for every group stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from ks_engine.access_log import AccessRecord

Store = Callable[[Sequence[AccessRecord]], list[int]]


class AccessWriter:
    """Stores prepared entries (``AccessLog.prepare``) in groups through ``store``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: list[tuple[AccessRecord, asyncio.Future[int]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def write(self, record: AccessRecord) -> int:
        """The entry's log position, once it is stored; the store's error if it is not."""
        stored: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((record, stored))
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_waiting())
        return await stored

    async def _write_waiting(self) -> None:
        group: list[tuple[AccessRecord, asyncio.Future[int]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    positions = await run_in_threadpool(self._store, [r for r, _ in group])
                except Exception as exc:  # every request of the group learns of the failure
                    for _, stored in group:
                        if not stored.done():
                            stored.set_exception(exc)
                else:
                    for (_, stored), position in zip(group, positions, strict=True):
                        if not stored.done():  # its request may have gone (a closed connection)
                            stored.set_result(position)
                group = []
        finally:
            # Stopped itself (the loop shuts down): no request waits for ever.
            for _, stored in [*group, *self._waiting]:
                if not stored.done():
                    stored.cancel()
            self._waiting = []
            self._writing = None
