"""Poisonous messages on a real JetStream server: each is dead-lettered alone, the intake goes on.

Valid signals fetched in the same batch as bodies that break Python's JSON parser (deep
nesting, an integer of thousands of digits, a lone surrogate, NaN, bytes that are not UTF-8)
become cases; every bad body gets its own dead letter and receipt with a reason in words.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from nats.aio.client import Client

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.streams import ensure_intake_streams
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.signal_intake import SignalOutcome
from tests.integration.receipts import Receipts
from tests.integration.test_signal_intake import (
    SOURCE,
    Running,
    dead_letters,
    make_engine,
    publish,
    signal,
)

VALID = ["111222333", "123456782", "100000009"]


def poisons() -> dict[str, tuple[bytes, str]]:
    """Bodies that once stopped the intake, each with the words its reason must contain."""
    huge = json.dumps(signal(VALID[0], "p-huge")).replace('"soon"', "9" * 20_000)
    return {
        "deep-array": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        "deep-object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        "deep-inside": (
            json.dumps(signal(VALID[0], "p-deep"))
            .replace('"soon"', "[" * 100_000 + "]" * 100_000)
            .encode(),
            "nested too deeply",
        ),
        "huge-number": (huge.encode(), "number too long"),
        "lone-surrogate": (
            json.dumps(signal(VALID[0], "p-sur", note="\ud800")).encode(),
            "surrogate",
        ),
        "nan": (json.dumps(signal(VALID[0], "p-nan")).replace('"soon"', "NaN").encode(), "NaN"),
        "not-utf8": (b'{"specversion": "1.0", "id": "\xff\xfe"}', "UTF-8"),
    }


async def test_a_batch_mixing_poison_and_valid_signals_loses_no_valid_signal(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path, intake_batch_size=50)
    js = nc.jetstream()
    await ensure_intake_streams(js, engine.settings)
    bad = poisons()
    # Published before the intake starts, interleaved, so that one fetch holds them all.
    for n, bsn in enumerate(VALID):
        await publish(js, signal(bsn, f"ok-{n}"))
        for name, (body, _) in list(bad.items())[n::3]:
            await publish(js, body, subject="ks.signals.GM0928", msg_id=f"{SOURCE}#{name}")
    async with Running(engine, nats_server.url) as running:
        got = await receipts.wait_for(len(VALID) + len(bad))
        # A signal sent afterwards is still taken: the intake kept running.
        await publish(js, signal(VALID[0], "ok-after"))
        later = await receipts.wait_for(len(VALID) + len(bad) + 1)
        assert not running.task.done()
    accepted = {r["signal_id"]: r for r in later if r["status"] == "accepted"}
    assert sorted(accepted) == ["ok-0", "ok-1", "ok-2", "ok-after"]
    for r in accepted.values():
        assert engine.referrals.get_case(UUID(r["case_id"])).is_open
    rejected = [r for r in got if r["status"] == "rejected"]
    assert len(rejected) == len(bad)
    assert {r["error_code"] for r in rejected} == {"not_json"}
    dead = await dead_letters(js, len(bad))
    reasons = sorted(m.headers["Ks-Error-Reason"] for m in dead)
    assert len(dead) == len(bad), "each bad message is dead-lettered once, alone"
    for _, words in bad.values():
        assert any(words in reason for reason in reasons), (words, reasons)
    assert not any(m.headers["Ks-Error-Code"] == "processing_failed" for m in dead)


async def test_a_signal_that_cannot_be_stored_is_dead_lettered_alone(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path, intake_batch_size=50)
    js = nc.jetstream()
    await ensure_intake_streams(js, engine.settings)
    store = engine.referrals.receive_signals

    def fails_on_one(batch: Sequence[tuple[Signal, c.Context]]) -> list[SignalOutcome]:
        # Fault injection: the event store chokes on one signal, whichever batch holds it.
        if any(s.signal_key.endswith("#cursed") for s, _ in batch):
            raise TypeError("cannot encode this signal")
        return store(batch)

    engine.referrals.receive_signals = fails_on_one  # type: ignore[method-assign]
    for name, bsn in zip(["a", "cursed", "b"], VALID, strict=True):
        await publish(js, signal(bsn, name))
    async with Running(engine, nats_server.url) as running:
        got = await receipts.wait_for(3)
        assert not running.task.done()
    by_id: dict[str, Any] = {r["signal_id"]: r for r in got}
    assert by_id["a"]["status"] == by_id["b"]["status"] == "accepted"
    assert by_id["cursed"]["status"] == "rejected"
    assert by_id["cursed"]["error_code"] == "processing_failed"
    assert "TypeError" not in by_id["cursed"]["reason"]
    dead = await dead_letters(js, 1)
    assert [m.headers["Ks-Error-Code"] for m in dead] == ["processing_failed"]


async def test_an_unexpected_failure_while_reading_one_message_rejects_it_alone(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    await ensure_intake_streams(js, engine.settings)
    pseudonymise = engine.pseudonymise

    def fails_on_one(bsn: str) -> str:
        # Fault injection: a failure no one foresaw, for one message only.
        if bsn == VALID[1]:
            raise RuntimeError("unforeseen")
        return pseudonymise(bsn)

    engine.pseudonymise = fails_on_one  # type: ignore[method-assign]
    for n, bsn in enumerate(VALID):
        await publish(js, signal(bsn, f"u-{n}"))
    async with Running(engine, nats_server.url) as running:
        got = await receipts.wait_for(3)
        await asyncio.sleep(0.2)
        assert not running.task.done()
    by_id = {r["signal_id"]: r for r in got}
    assert by_id["u-0"]["status"] == by_id["u-2"]["status"] == "accepted"
    assert by_id["u-1"]["status"] == "rejected"
    assert by_id["u-1"]["error_code"] == "invalid_signal"
    assert "could not be read" in by_id["u-1"]["reason"]
