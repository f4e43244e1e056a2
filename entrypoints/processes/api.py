"""The API process: the HTTP API and dashboard on their listening socket. Under `ks run` its
``/ready`` reports every process of `ks run` from the status file the supervising parent
writes; `ks api` serves the API alone."""

from __future__ import annotations

import asyncio
import socket
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints.processes.api_server import serve_on_socket
from entrypoints.processes.host import process_main
from entrypoints.processes.status_file import BoardFile
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import CannotStartError, StatusBoard
from ks_engine.supervisor import Component

if TYPE_CHECKING:
    pass

STATUS_FILE = Path("run") / "components.json"
"""Where `ks run` keeps its processes' board, under the data directory."""


class ApiNotStartedError(CannotStartError):
    """The API cannot listen on its address (in use, or not an address of this machine)."""


def _listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound here so that a taken port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named TCP explicitly: asyncio sets TCP_NODELAY only on connections of a socket whose
    # protocol says TCP; without it every answer on a kept-alive connection waited ~40 ms for
    # the client's delayed acknowledgement of the headers before its body went out.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ApiNotStartedError(
            f"the HTTP API cannot listen on {host}:{port} ({exc.strerror}); "
            "set KS_API_PORT (or KS_API_HOST) to a free address"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_api(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    *,
    host: str | None = None,
    port: int | None = None,
    components: StatusBoard | None = None,
    workers: int | None = None,
) -> None:
    """Serve the API until ``stop``; signals go to NATS through ``link`` when there is one;
    ``components`` is the board of the supervised components ``/ready`` reports. With more
    than one worker (``workers``, else KS_API_WORKERS) worker processes answer the requests
    (``api_workers``); with one, this process does."""
    settings = engine.settings
    # An in-memory store lives in this process only: its API is served from here.
    count = 1 if settings.store == "memory" else workers or settings.api_workers
    sock = _listen(host or settings.api_host, port or settings.api_port)
    try:
        if count > 1:
            from entrypoints.processes.api_workers import serve_workers

            await serve_workers(engine, link, stop, sock, count, components)
        else:
            await serve_on_socket(engine, link, stop, sock, components=components)
    finally:
        sock.close()


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The API reporting ``board`` (this process's own) on ``/ready``."""
    return partial(serve_api, engine, link, components=board)


def reporting_ks_run(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The API reporting the board of `ks run`'s processes on ``/ready``."""
    shared = BoardFile(engine.settings.data_dir / STATUS_FILE)
    return partial(serve_api, engine, link, components=shared)


if __name__ == "__main__":
    process_main("api", reporting_ks_run if "--in-ks-run" in sys.argv else component)
