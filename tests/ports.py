"""Loopback ports for test servers, chosen below the kernel's ephemeral range.

A port from the ephemeral range (what binding to port 0 gives) can be taken, between choosing
it and the server binding it, by the source port of any outgoing connection - such as the
route connections of a starting cluster. Ports below that range are only taken by listeners.

When the suite runs in several pytest-xdist workers, each worker chooses from its own slice
of that range, so two workers never hand out the same port in the moment between checking it
and their servers binding it.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_taken: set[int] = set()


def port_range(worker: str | None, workers: int, ephemeral_low: int) -> range:
    """The ports this test process may hand out: ``[10000, ephemeral_low)``, or the
    worker's own share of it when ``worker`` (``gw0``, ``gw1``, ...) is one of ``workers``."""
    whole = range(_LOWEST, max(ephemeral_low, _LOWEST + 1))
    if not worker or workers < 2:
        return whole
    index = int(worker.removeprefix("gw"))
    share = len(whole) // workers
    return whole[index * share : (index + 1) * share]


def listening_port() -> int:
    """A loopback port, free now, below the ephemeral range, not handed out before."""
    low = int(_RANGE_FILE.read_text().split()[0]) if _RANGE_FILE.exists() else 32768
    ports = port_range(
        os.environ.get("PYTEST_XDIST_WORKER"),
        int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")),
        low,
    )
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.choice(ports)
        if port in _taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")
