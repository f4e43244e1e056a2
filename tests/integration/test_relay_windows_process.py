"""The relay's windows read and translated in a process of their own (``ProcessWindows``, as
`ks relay` and `ks run` relay), on a real SQLite file or PostgreSQL and a real nats-server: the
very messages and feedback the relay's own thread makes, every event exactly once and in order,
and a relay whose windows' process was killed fails and is resumed without gap or duplicate."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from adapters.nats.feedback import FeedbackTranslator
from adapters.nats.relay import Relay, RelayPosition, is_referral
from adapters.nats.relay_windows import PARENT_CHECK_SECONDS, ProcessWindows, WindowTranslator
from ks_engine.bootstrap import Engine, bootstrap, reading_parts
from ks_engine.partners import Partner, PartnerRegistry
from ks_engine.settings import Settings
from projections.event import STREAM
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import notifications, play

PARTNERS = PartnerRegistry(
    partners=(Partner(id="vk-parkstad", source="https://verloskunde-parkstad.nl", name="VK"),)
)


@pytest.fixture
def settings(durable_settings: Settings) -> Settings:
    """The store's settings with a partner registry in a file (the windows' process reads it)."""
    durable_settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = durable_settings.data_dir / "partners.json"
    path.write_text(PARTNERS.model_dump_json(), "utf-8")
    return durable_settings.model_copy(update={"partners_path": path})


@pytest.fixture
def engine(settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(settings, clock=clock, configure_logs=False)
    yield built
    built.close()


def windows_process(engine: Engine, window: int, workers: int = 2) -> ProcessWindows:
    return ProcessWindows(
        partial(reading_parts, engine.settings),
        window,
        feedback=True,
        partners_path=engine.settings.partners_path,
        workers=workers,
    )


# One process, or two (as `ks relay` has by default): whichever makes a window, it is the same.
each_count = pytest.mark.parametrize("workers", [1, 2])


async def drain(relay: Relay) -> None:
    while await relay.publish_pending():
        pass


async def published_positions(js: JetStreamContext) -> list[int]:
    last = (await js.stream_info(STREAM)).state.last_seq
    messages = [await js.get_msg(STREAM, seq=seq) for seq in range(1, last + 1)]
    return [json.loads(m.data or b"")["position"] for m in messages]


@each_count
async def test_the_process_makes_the_very_windows_the_relays_thread_makes(
    engine: Engine, clock: FixedClock, workers: int
) -> None:
    # Given a store with many cases, and feedback to partners on
    app = engine.referrals
    play(app, clock, seed=11, steps=60)
    last = app.recorder.max_notification_id() or 0
    here = WindowTranslator(app, 9, FeedbackTranslator(app, PARTNERS))
    apart = windows_process(engine, 9, workers)
    await apart.start()
    assert apart._pool is not None
    assert apart.started == set(apart._pool._processes)  # each started, its store open
    assert len(apart.started) == workers
    try:
        # When every window of the log is made in both places (from every start, so that
        # windows beginning anywhere are compared, not only where the relay would begin them;
        # several at once, as the relay asks for them)
        starts = range(1, last + 2)
        made = await asyncio.gather(*(apart.submit(start) for start in starts))
        for start, window in zip(starts, made, strict=True):
            # Then messages, feedback and the window's end are equal, byte for byte
            assert window == here.read(start)
    finally:
        await apart.close()
    assert here.read(1)[0], "the store held case events to compare"
    assert here.read(1)[1], "the store held feedback to compare"


@each_count
async def test_a_relay_with_its_windows_apart_publishes_every_event_once_in_order(
    engine: Engine, js: JetStreamContext, clock: FixedClock, workers: int
) -> None:
    app = engine.referrals
    relay = Relay(
        app,
        js,
        RelayPosition(engine.settings.data_dir / "relay-apart.sqlite"),
        window=5,
        windows=windows_process(engine, 5, workers),
    )
    await relay.start()
    try:
        # Given a log that grows while the relay publishes (windows read ahead go stale)
        for seed in (3, 4, 5):
            play(app, clock, seed=seed, steps=25)
            publishing = asyncio.ensure_future(relay.publish_pending())
            play(app, clock, seed=seed + 10, steps=5)
            await publishing
        await drain(relay)
    finally:
        await relay.close()
    # Then each case event is on the stream once, in the log's order
    expected = [n.id for n in notifications(app) if is_referral(n)]
    assert await published_positions(js) == expected


@each_count
async def test_a_killed_windows_process_fails_the_relay_which_resumes_without_loss(
    engine: Engine, js: JetStreamContext, clock: FixedClock, workers: int
) -> None:
    app = engine.referrals
    play(app, clock, seed=21, steps=60)
    position = RelayPosition(engine.settings.data_dir / "relay-killed.sqlite")
    windows = windows_process(engine, 6, workers)
    first = Relay(app, js, position, window=6, windows=windows)
    await first.start()
    assert await first.publish_pending()
    # When a windows' process is killed (one of them, when there are two)
    assert windows._pool is not None
    processes = list(windows._pool._processes)
    assert len(processes) == workers
    os.kill(processes[0], signal.SIGKILL)
    # Then the relay fails rather than skip a window
    with pytest.raises(BrokenProcessPool, match="terminated abruptly"):
        await drain(first)
    await first.close()
    # And a relay started again (as its supervisor does) publishes the rest, once each
    second = Relay(app, js, position, window=6, windows=windows_process(engine, 6, workers))
    await second.start()
    try:
        await drain(second)
    finally:
        await second.close()
    expected = [n.id for n in notifications(app) if is_referral(n)]
    assert await published_positions(js) == expected


RELAY_HOST = """
import asyncio, sys
from functools import partial
from pathlib import Path
from pathlib import Path
from adapters.nats.relay_windows import ProcessWindows
from ks_engine.bootstrap import reading_parts
from ks_engine.settings import Settings

async def main() -> None:
    settings = Settings(store="sqlite", data_dir=Path(sys.argv[1]), log_level="warning")
    windows = ProcessWindows(partial(reading_parts, settings), 10, feedback=False,
                             partners_path=None, workers=2)
    await windows.start()
    print(*windows._pool._processes, flush=True)  # both, started by start()
    await asyncio.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_the_windows_processes_end_when_the_relays_process_is_killed(tmp_path: Path) -> None:
    # Given a store, and a process whose windows are made in a process of their own
    settings = Settings(store="sqlite", data_dir=tmp_path / "data", log_level="warning")
    bootstrap(settings, configure_logs=False).close()
    script = tmp_path / "relay_host.py"
    script.write_text(RELAY_HOST, "utf-8")
    host = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert host.stdout is not None
    windows_pids = [int(pid) for pid in host.stdout.readline().split()]
    assert len(windows_pids) == 2
    for pid in windows_pids:
        os.kill(pid, 0)  # they run
    # When the relay's process is killed (it can stop nothing of its own)
    host.kill()
    host.wait(timeout=10)
    # Then its windows' processes end by themselves soon after
    deadline = time.monotonic() + 10 * PARENT_CHECK_SECONDS
    while any(map(_running, windows_pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_running, windows_pids))


STARTS_LATE = """
import sys, time
from functools import partial
from pathlib import Path
from adapters.nats.relay_windows import _start_here
from ks_engine.bootstrap import reading_parts
from ks_engine.settings import Settings

settings = Settings(store="sqlite", data_dir=Path(sys.argv[1]), log_level="warning")
_start_here(int(sys.argv[2]), partial(reading_parts, settings), 10, False, None)
time.sleep(600)
"""


def test_a_windows_process_that_starts_after_the_relay_has_gone_ends(tmp_path: Path) -> None:
    # Given a store, and a relay's process that has ended before its windows' process started
    # (the windows' process then has another parent: the one that adopted it)
    settings = Settings(store="sqlite", data_dir=tmp_path / "data", log_level="warning")
    bootstrap(settings, configure_logs=False).close()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=10)
    script = tmp_path / "starts_late.py"
    script.write_text(STARTS_LATE, "utf-8")
    # When the windows' process starts for that relay
    late = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir), str(gone.pid)],
        cwd=Path(__file__).parents[2],
    )
    # Then it ends by itself rather than watch its new parent
    try:
        assert late.wait(timeout=30 + 10 * PARENT_CHECK_SECONDS) == 0
    finally:
        late.kill()  # no-op when it ended


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
