"""Short reads of the stores run on the event loop when the stores are local files, and in a
worker thread when every read is a round trip to PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest

from adapters.http.context import Services, quick_read


def _services(*, local_reads: bool) -> Services:
    # Only the flag is read; the rest of the services play no part here.
    return cast(Services, type("S", (), {"local_reads": local_reads})())


@pytest.mark.parametrize(("local", "on_the_loop"), [(True, True), (False, False)])
def test_a_short_read_runs_on_the_loop_only_on_local_stores(local: bool, on_the_loop: bool) -> None:
    def read(a: int, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    async def run() -> tuple[Any, int]:
        result = await quick_read(_services(local_reads=local), read, 2, 3)
        return result, threading.get_ident()

    (total, reader), loop_thread = asyncio.run(run())
    assert total == 5
    assert (reader == loop_thread) is on_the_loop


def test_an_error_of_the_read_reaches_the_caller_either_way() -> None:
    def read() -> None:
        raise LookupError("no such case")

    for local in (True, False):
        with pytest.raises(LookupError, match="no such case"):
            asyncio.run(quick_read(_services(local_reads=local), read))
