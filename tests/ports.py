"""Loopback ports for test servers, chosen below the kernel's ephemeral range.

A port from the ephemeral range (what binding to port 0 gives) can be taken, between choosing
it and the server binding it, by the source port of any outgoing connection - such as the
route connections of a starting cluster. Ports below that range are only taken by listeners.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_taken: set[int] = set()


def listening_port() -> int:
    """A loopback port, free now, below the ephemeral range, not handed out before."""
    low = int(_RANGE_FILE.read_text().split()[0]) if _RANGE_FILE.exists() else 32768
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(10_000, max(low, 10_001))
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
