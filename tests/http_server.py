"""The HTTP API served by uvicorn on loopback in a thread, and raw HTTP/1.1 over a socket.

Tests drive it as a client would, with httpx or with bytes on a socket (chunked bodies that
never end, declared lengths that never arrive), against the same ``serve_api`` that `ks api`
and `ks run` use, in this process (one worker): the engine runs on the test's store and clock.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from adapters.nats.embedded import free_port
from entrypoints.processes.api import serve_api
from ks_engine.bootstrap import Engine


@dataclass(frozen=True)
class Answer:
    """An HTTP response read off a socket."""

    status: int
    headers: dict[str, str]
    body: bytes


@contextmanager
def served(engine: Engine) -> Iterator[str]:
    """Serve the API over ``engine`` (no NATS) until the block ends; yields its base URL."""
    port = free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(
                serve_api(engine, None, stop, host="127.0.0.1", port=port, workers=1)
            )
        except BaseException as exc:  # reported by the test, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="ks-api", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            threading.Event().wait(0.025)
    try:
        yield base
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()
        assert not failed, failed


def connect(base: str) -> socket.socket:
    """A TCP connection to the server (a timeout, so a test never hangs on a silent server)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    return sock


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    """A request line and headers, ready to send."""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def read_answer(sock: socket.socket) -> Answer:
    """One response: status line, headers and a body of its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"connection closed before a response: {data!r}"
        data += more
    raw, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        assert more, "connection closed inside the response body"
        body += more
    return Answer(int(status_line.split()[1]), headers, body[:length])


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server ended the connection (after its answer)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
