"""The API's listening socket is one asyncio sets TCP_NODELAY on for every connection."""

from __future__ import annotations

import socket

from adapters.nats.embedded import free_port
from entrypoints.processes.api import _listen


def test_the_listening_socket_is_tcp_by_protocol() -> None:
    sock = _listen("127.0.0.1", free_port())
    try:
        # asyncio's transports set TCP_NODELAY only when proto is IPPROTO_TCP (not 0)
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.type == socket.SOCK_STREAM
    finally:
        sock.close()
