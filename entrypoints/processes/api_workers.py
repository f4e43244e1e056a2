"""The HTTP API on several worker processes that share one listening socket (KS_API_WORKERS).

Python answers one request at a time per process; on a machine with more than one core the API
answers more at once in several processes. The process that serves the API (`ks run`, `ks api`)
binds the socket, starts the workers and watches them: each worker builds its own engine, read
models and NATS connection from the same settings and accepts connections on the shared socket.

What is shared between them is safe across processes: the event store (every access-log entry
is committed before its answer, as in one process), the principals file (locked, replaced in one
step), the people's sessions (SQLite). Workers do not seal the access-log entries they store:
the process that started them does, within a second, as its sealer does for every other
process's events. ``/ready`` reports the supervised components from the status file of `ks run`
(``status_file``), or from a copy of the board the starting process keeps at every change.
``/metrics`` sums what every worker counted (``adapters.http.metrics``): each counts into files of
its own under the data directory's ``api-metrics``, emptied when the workers start; one of them
counts the intake's receipts.

A worker that ends while the API serves ends the API component: the others are stopped and the
supervisor of `ks run` starts the API again (after its backoff), with new workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import socket
from collections.abc import Iterator, MutableSequence, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints.processes.status_file import BoardFile
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.private_file import replace
from ks_engine.runtime import NatsLink, nats_link, run_event_loop, stop_on_signals
from ks_engine.settings import Settings
from ks_engine.supervision import StatusBoard

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

BOARD_FILE = "api-status-board.json"  # under the data directory
METRICS_DIR = "api-metrics"  # under the data directory: the workers' counts
WATCH_SECONDS = 0.5  # how often workers are checked and their entries sealed
STOP_SECONDS = 10.0  # a worker still running this long after SIGTERM is killed


class ApiWorkerExitedError(Exception):
    """A worker process of the API ended while the API was serving."""


@dataclass(frozen=True)
class WorkerOrders:
    """What a worker process needs to serve: sent to it when it starts."""

    settings: Settings
    nats_url: str | None  # the NATS the starting process is connected to; None: no signals
    board_path: Path | None  # the copy of the status board; None: no supervised components
    parent_pid: int
    counts_receipts: bool  # one worker counts the intake's receipts for /metrics
    index: int  # its place among the workers (in their shared connection counts)


def write_board(board: StatusBoard, path: Path) -> None:
    """Write ``board`` to ``path`` as `ks run`'s status file is written (read by BoardFile)."""
    replace(path, json.dumps({name: asdict(s) for name, s in sorted(board.snapshot().items())}))


def worker_main(orders: WorkerOrders, sock: socket.socket, counts: MutableSequence[int]) -> None:
    """A worker process: serve the API on ``sock`` until SIGTERM/SIGINT or its parent ends.

    It runs on uvloop, as every long-lived process of the engine does (``run_event_loop``).
    libuv takes one connection per turn on the shared socket (``UV_TCP_SINGLE_ACCEPT``) so that
    connections opened at once spread over the workers: otherwise the first worker awake took
    every one of them (in 4 of 8 bench phases one worker answered all 32 clients), and answered
    alone."""
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    run_event_loop(_work(orders, sock, counts))


async def _work(orders: WorkerOrders, sock: socket.socket, counts: MutableSequence[int]) -> None:
    from entrypoints.processes.api_server import serve_on_socket

    engine = bootstrap(orders.settings, seal_own_writes=False)
    stop = stop_on_signals()
    orphaned = asyncio.create_task(_stop_when_orphaned(orders.parent_pid, stop))
    board = BoardFile(orders.board_path) if orders.board_path is not None else None
    shares = (counts, orders.index)
    try:
        if orders.nats_url is None:
            await serve_on_socket(
                engine,
                None,
                stop,
                sock,
                components=board,
                shares=shares,
            )
            return
        settings = orders.settings.model_copy(update={"nats_url": orders.nats_url})
        async with nats_link(settings, embedded=False) as link:
            await serve_on_socket(
                engine,
                link,
                stop,
                sock,
                components=board,
                count_receipts=orders.counts_receipts,
                shares=shares,
            )
    finally:
        orphaned.cancel()
        engine.close()


async def _stop_when_orphaned(parent_pid: int, stop: asyncio.Event) -> None:
    """Stop when the starting process is gone (killed without stopping its workers)."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(WATCH_SECONDS)
    stop.set()


async def serve_workers(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    sock: socket.socket,
    workers: int,
    components: StatusBoard | None,
) -> None:
    """Serve the API on ``sock`` from ``workers`` processes until ``stop``; meanwhile copy the
    board for them at every change and seal what they stored.

    The workers build their engines from ``engine.settings`` alone (an engine made in code with
    its own clock or catalogue is served by one worker, in this process)."""
    settings = engine.settings
    board_path: Path | None = None
    unwatch = None
    if isinstance(components, BoardFile):  # `ks run`'s status file: the workers read it too
        board_path = components.path
    elif components is not None:  # a board of this process: copied for them at every change
        board_path = settings.data_dir / BOARD_FILE
        write_board(components, board_path)
        unwatch = components.watch(partial(write_board, components, board_path))
    orders = [
        WorkerOrders(
            settings=settings,
            nats_url=link.url if link is not None else None,
            board_path=board_path,
            parent_pid=os.getpid(),
            counts_receipts=n == 0,
            index=n,
        )
        for n in range(workers)
    ]
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads, no loop
    counts = spawn.RawArray("i", workers)  # each worker's open connections (api_shares)
    procs = [
        spawn.Process(target=worker_main, args=(o, sock, counts), name=f"ks-api-worker-{n + 1}")
        for n, o in enumerate(orders)
    ]
    metrics_dir = settings.data_dir / METRICS_DIR
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts of earlier workers: they start anew
    metrics_dir.mkdir(parents=True)
    try:
        with _environment(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)):  # read as they start
            for proc in procs:
                proc.start()
        await _watch(engine, stop, procs)
    finally:
        if unwatch is not None:
            unwatch()
        await asyncio.to_thread(_stop_all, procs)
        await asyncio.to_thread(engine.audit.sealer.seal_after_save)  # their last entries


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """``values`` in this process's environment (which started processes inherit) meanwhile."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _watch(engine: Engine, stop: asyncio.Event, procs: Sequence[BaseProcess]) -> None:
    while not stop.is_set():
        ended = next((p for p in procs if not p.is_alive()), None)
        if ended is not None:
            raise ApiWorkerExitedError(f"{ended.name} ended (exit code {ended.exitcode})")
        # Wakes this process's sealer when it runs here (`ks run`), else seals right away.
        await asyncio.to_thread(engine.audit.sealer.seal_after_save)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WATCH_SECONDS)


def _stop_all(procs: Sequence[BaseProcess]) -> None:
    started = [p for p in procs if p.pid is not None]
    for proc in started:
        if proc.is_alive():
            proc.terminate()
    for proc in started:
        proc.join(STOP_SECONDS)
        if proc.is_alive():
            proc.kill()
            proc.join()
