"""Between `ks run`'s processes: a save announced on NATS wakes the relay's process at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from adapters.nats.embedded import EmbeddedNatsServer
from entrypoints.processes.wakeups import SUBJECT, announce_saves, wake_on_saves
from ks_engine.audit.sealer import run_sealer
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.referral_builders import BSN_A, BSN_B, make_signal, partner_ctx


@pytest.fixture
def two_engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one SQLite store, as two processes of `ks run` have."""
    settings = Settings(data_dir=tmp_path, log_level="warning")
    writer = bootstrap(settings)
    reader = bootstrap(settings)
    try:
        yield writer, reader
    finally:
        writer.close()
        reader.close()


async def test_a_save_in_one_process_wakes_the_relay_of_another(
    nats_server: EmbeddedNatsServer, two_engines: tuple[Engine, Engine]
) -> None:
    writer, reader = two_engines
    nc_writer = await nats.connect(nats_server.url)
    nc_reader = await nats.connect(nats_server.url)
    heard = await nc_writer.subscribe(SUBJECT)
    woken = asyncio.Event()
    reader.referrals.on_grown(woken.set)  # as the relay listens
    stop_announcing = announce_saves(writer.referrals, nc_writer)
    await wake_on_saves(reader.referrals, nc_reader)
    await nc_reader.flush()
    try:
        await asyncio.sleep(0.2)
        assert not woken.is_set()
        first = make_signal(BSN_A)
        await asyncio.to_thread(writer.referrals.receive_signal, first, partner_ctx(first))
        await asyncio.wait_for(woken.wait(), 10)
        assert (await heard.next_msg(timeout=5)).data == b""
        stop_announcing()
        woken.clear()
        second = make_signal(BSN_B)
        await asyncio.to_thread(writer.referrals.receive_signal, second, partner_ctx(second))
        await asyncio.sleep(0.5)
        assert not woken.is_set(), "a stopped announcer still announced"
    finally:
        await nc_writer.close()
        await nc_reader.close()


async def test_a_process_saving_wakes_its_own_relay_without_nats(
    two_engines: tuple[Engine, Engine],
) -> None:
    writer, _ = two_engines
    woken: list[bool] = []
    sealed: list[bool] = []
    writer.referrals.on_grown(lambda: woken.append(True))
    writer.referrals.on_recorded(lambda: sealed.append(True))
    writer.referrals.grown_elsewhere()
    assert (woken, sealed) == ([True], []), "another process's save is not this one's to seal"
    signal = make_signal()
    await asyncio.to_thread(writer.referrals.receive_signal, signal, partner_ctx(signal))
    assert (len(woken), len(sealed)) == (2, 1)


async def test_under_ks_run_the_sealer_process_seals_what_a_writer_saved(
    nats_server: EmbeddedNatsServer, two_engines: tuple[Engine, Engine]
) -> None:
    writer, sealing = two_engines
    writer.audit.sealer.leave_to_sealer_process()
    # Seals the writer makes itself, counted (the chain's head alone cannot tell: the sealer
    # process, woken over NATS, may have sealed the save before the test looks)
    writer_seals: list[int] = []
    seal_pending = writer.audit.sealer.seal_pending

    def counted_seal() -> int:
        writer_seals.append(1)
        return seal_pending()

    writer.audit.sealer.seal_pending = counted_seal  # type: ignore[method-assign]
    nc_writer = await nats.connect(nats_server.url)
    nc_sealer = await nats.connect(nats_server.url)
    announce_saves(writer.referrals, nc_writer)
    await wake_on_saves(sealing.referrals, nc_sealer)
    sealing.referrals.on_grown(sealing.audit.sealer.seal_after_save)
    await nc_sealer.flush()
    stop = asyncio.Event()
    # Polling once a minute: only the announcement can wake it within the test's wait
    running = asyncio.create_task(run_sealer(sealing.audit.sealer, stop, poll_seconds=60))
    try:
        await asyncio.sleep(0.3)  # its first pass, over an empty log
        signal = make_signal(BSN_A)
        await asyncio.to_thread(writer.referrals.receive_signal, signal, partner_ctx(signal))
        stored = writer.referrals.recorder.max_notification_id()
        assert not writer_seals, "the writer sealed its own save"
        for _ in range(100):
            head = writer.audit.chain.head()
            if head is not None and head.position == stored:
                break
            await asyncio.sleep(0.1)
        assert head is not None
        assert head.position == stored
    finally:
        stop.set()
        await running
        await nc_writer.close()
        await nc_sealer.close()
