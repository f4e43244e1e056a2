"""The whole engine as an operator runs it: `ks run` in its own process, on the bench's server.

Signals are published the way partners publish them; a signal counts as done when the work queue
projection has applied its event. In a run of only first and further signals every signal makes
exactly one Referral event, relayed in order, so the k-th signal is visible once the work
queue's checkpoint reaches stream sequence k of ``KS_EVENTS``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from adapters.nats.intake import CONSUMER
from adapters.nats.streams import SIGNALS
from adapters.persistence.views import open_views
from bench.engine import SOURCE, signals
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.store import ViewDatabase, checkpoints

KS = str(Path(sys.executable).parent / "ks")
POLL_SECONDS = 0.002  # the lag run: each signal's visibility to within 2 ms
# The throughput runs only need when the last signal became visible: polled every 2 ms on
# PostgreSQL the checkpoint's reads took about 7% of the machine's CPU (the bench process and
# its server connection), which the engine then lacked. Polled every 20 ms the end is seen at
# most 20 ms late, a thousandth of a run of 10-15 s, and the rate errs on the low side.
THROUGHPUT_POLL_SECONDS = 0.02
# An idle `ks run` (intake, relay, projectors, sealer, API workers, expiry) was seen using
# 0.00-0.04 s of CPU a second; starting, up to two (both cores).
SETTLED_CPU_SECONDS = 0.2


RUN: tuple[str, ...] = ("run",)
ONE_PROCESS: tuple[str, ...] = ("run", "--one-process")
# The production arrangement (docker-compose.yml): each component in its own process, the
# intake twice (two replicas on one consumer).
SPLIT: tuple[str, ...] = ("intake", "intake", "relay", "project", "sealer")


@contextmanager
def engine_subprocesses(
    settings: Settings, url: str, commands: tuple[str, ...] = RUN, **env: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``ks <command>`` for each of ``commands`` on ``url`` with the store of ``settings``,
    logging warnings only; all stopped after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    environment = dict(
        os.environ,
        **settings.store_environment(),
        KS_NATS_URL=url,
        KS_LOG_LEVEL="warning",
        **({"KS_API_PORT": str(free_port())} | env),  # `ks run` serves the HTTP API too
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (settings.data_dir / "ks-run.log").open("ab") as log:
            for command in commands:
                procs.append(
                    subprocess.Popen(  # noqa: S603 - our own `ks` next to this interpreter
                        [KS, command], env=environment, stdout=log, stderr=log
                    )
                )
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


@contextmanager
def engine_subprocess(
    settings: Settings, url: str, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`ks run` on ``url`` with the store of ``settings``, logging warnings only; stopped after."""
    with engine_subprocesses(settings, url, RUN, **env) as procs:
        yield procs[0]


@contextmanager
def engine_process(
    settings: Settings, commands: tuple[str, ...] = RUN
) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A fresh nats-server and the engine's processes on it; all stopped after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (
        EmbeddedNatsServer(settings.data_dir / "nats") as server,
        engine_subprocesses(settings, server.url, commands) as procs,
    ):
        yield server.url, procs


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM), in MB, of the process and its descendants
    (`ks run` starts each component as a process of its own)."""
    return max(_own_peak_rss_mb(p) for p in [pid, *_descendants(pid)])


def _own_peak_rss_mb(pid: int) -> float:
    """VmHWM in MB; 0 for a process that has ended meanwhile (a zombie has none)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # the thread or process ended meanwhile
            continue
        for child in children:
            found += [int(child), *_descendants(int(child))]
    return found


def work_queue_seq(views: ViewDatabase) -> int:
    """The KS_EVENTS sequence the work queue projection has applied."""
    try:
        return checkpoints(views, ["work_queue"])[0].seq
    except ViewDatabaseError:  # not created yet
        return 0


async def _ready(js: JetStreamContext, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.consumer_info(SIGNALS, CONSUMER)
            await js.stream_info("KS_EVENTS")
            await js.consumer_info("KS_EVENTS", "ks-views")
            return
        except nats.errors.Error:
            pass
        if time.monotonic() > deadline:
            # The bench's data directory goes with its temporary directory: say what it logged.
            said = log.read_text(errors="replace").splitlines()[-40:] if log.exists() else []
            raise RuntimeError("the engine did not start; its log ends:\n" + "\n".join(said))
        await asyncio.sleep(0.1)


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user and system) so far of each of ``pids`` still running."""
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


async def settled(
    procs: list[subprocess.Popen[bytes]],
    *,
    quiet: float = SETTLED_CPU_SECONDS,
    timeout: float = 120,
) -> None:
    """Wait until the engine's processes and their children together use less than ``quiet``
    seconds of CPU in each of two seconds in a row: every process has finished starting. The
    streams and the API answer before that: `ks run`'s API workers import the whole HTTP app
    after the API process started them, seconds of CPU each, and a measurement begun then
    shares the cores with them."""
    deadline = time.monotonic() + timeout
    quiet_seconds = 0
    while quiet_seconds < 2:  # two in a row: a process may start another after a pause
        pids = [p for proc in procs for p in (proc.pid, *_descendants(proc.pid))]
        before = _cpu_seconds(pids)
        await asyncio.sleep(1.0)
        after = _cpu_seconds(pids)
        used = sum(after[p] - before[p] for p in before if p in after)
        quiet_seconds = quiet_seconds + 1 if used < quiet else 0
        if quiet_seconds == 0 and time.monotonic() > deadline:
            # A long run is not thrown away for this: it measures, and says so on stderr.
            print(
                f"the engine's processes still used {used:.2f} s of CPU a second after "
                f"{timeout:.0f} s; measuring while they do",
                file=sys.stderr,
            )
            return


class Visibility:
    """Polls the work queue's checkpoint in a thread; when each sequence became visible."""

    def __init__(self, views: ViewDatabase, count: int, poll: float = POLL_SECONDS) -> None:
        self.views, self.count, self.poll = views, count, poll
        self.seen_at: list[float] = [0.0] * (count + 1)
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _poll(self) -> None:
        done = 0
        while done < self.count:
            seq = min(work_queue_seq(self.views), self.count)
            now = time.perf_counter()
            for k in range(done + 1, seq + 1):
                self.seen_at[k] = now
            done = max(done, seq)
            time.sleep(self.poll)

    def wait(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


async def end_to_end(
    settings: Settings, count: int, commands: tuple[str, ...] = RUN
) -> dict[str, float]:
    """Publish ``count`` signals at once; signals/s until all are in the work queue.
    ``peak_rss_mb`` is that of the largest engine process."""
    bodies = signals(count, seed=11)
    views = open_views(settings)
    with engine_process(settings, commands) as (url, procs):
        nc = await nats.connect(url)
        js = nc.jetstream()
        await _ready(js, settings.data_dir / "ks-run.log")
        await settled(procs)
        watch = Visibility(views, count, THROUGHPUT_POLL_SECONDS)
        started = time.perf_counter()
        watch.start()
        futures = [
            await js.publish_async(
                "ks.signals.GM0928", body, headers={"Nats-Msg-Id": f"{SOURCE}#e2e-{n}"}
            )
            for n, body in enumerate(bodies)
        ]
        await asyncio.gather(*futures)
        if not await asyncio.to_thread(watch.wait, 3600):
            raise RuntimeError("the work queue did not show every signal within an hour")
        elapsed = watch.seen_at[count] - started
        rss = max(peak_rss_mb(proc.pid) for proc in procs)
        await nc.close()
    return {"signals_per_s": count / elapsed, "seconds": elapsed, "peak_rss_mb": rss}


async def steady_lag(settings: Settings, rate: float, seconds: float) -> dict[str, float]:
    """Publish at ``rate`` signals/s; p50/p99 ms from publish to visible in the work queue."""
    count = int(rate * seconds)
    bodies = signals(count, seed=12)
    views = open_views(settings)
    with engine_process(settings) as (url, (proc,)):
        nc = await nats.connect(url)
        js = nc.jetstream()
        await _ready(js, settings.data_dir / "ks-run.log")
        await settled([proc])
        watch = Visibility(views, count)
        watch.start()
        published = [0.0] * (count + 1)
        start = time.perf_counter()
        for n, body in enumerate(bodies):
            due = start + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            published[n + 1] = time.perf_counter()
            await js.publish("ks.signals.GM0928", body, headers={"Nats-Msg-Id": f"{SOURCE}#l-{n}"})
        if not await asyncio.to_thread(watch.wait, 600):
            raise RuntimeError("the work queue did not show every signal within 10 minutes")
        rss = peak_rss_mb(proc.pid)
        await nc.close()
    lags = sorted((watch.seen_at[k] - published[k]) * 1000 for k in range(1, count + 1))
    return {
        "offered_per_s": rate,
        "signals": count,
        "p50_ms": statistics.median(lags),
        "p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        "max_ms": lags[-1],
        "peak_rss_mb": rss,
    }
