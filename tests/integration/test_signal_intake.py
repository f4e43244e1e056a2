"""Partner signals over a real JetStream server: cases, receipts, dead letters, exactly once.

Partners are played by plain nats-py publishes, as a partner's integration would do it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from adapters.nats.dead_letters import DeadLetter, dead_letter_seal
from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.intake import DLQ_SUBJECT, Intake
from adapters.nats.streams import DLQ, ensure_intake_streams
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import now
from ks_engine.partners import Partner, PartnerRegistry
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal
from tests.integration.receipts import Receipts

MOTHER = "111222333"
OTHER = "123456782"
SOURCE = "https://verloskunde-parkstad.nl"


def make_engine(data_dir: Path, **overrides: Any) -> Engine:
    settings = Settings(
        data_dir=data_dir, store="sqlite", intake_retry_delay_seconds=0.1, **overrides
    )
    return bootstrap(settings, configure_logs=False)


def signal(bsn: str, event_id: str, municipality: str = "GM0928", **data: Any) -> dict[str, Any]:
    doc = example_signal(bsn, municipality=municipality, event_id=event_id, source=SOURCE)
    doc["data"].update(data)
    return doc


async def publish(
    js: JetStreamContext,
    doc: dict[str, Any] | bytes,
    subject: str | None = None,
    msg_id: str | None = None,
) -> None:
    if isinstance(doc, dict):
        subject = subject or f"ks.signals.{doc['data']['municipality']}"
        msg_id = msg_id or f"{doc['source']}#{doc['id']}"
        body = json.dumps(doc).encode()
    else:
        body = doc
    assert subject is not None
    await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id} if msg_id else None)


class Running:
    """An intake worker running in the background on its own engine and connection."""

    def __init__(self, engine: Engine, url: str, **kwargs: Any) -> None:
        self.engine, self.url, self.kwargs = engine, url, kwargs
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Running:
        self.nc = await nats.connect(self.url)
        await ensure_intake_streams(self.nc.jetstream(), self.engine.settings)
        self.intake = Intake(self.engine, self.nc.jetstream(), **self.kwargs)
        self.task = asyncio.create_task(self.intake.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.nc.close()


async def dead_letters(js: JetStreamContext, count: int) -> list[Any]:
    sub = await js.pull_subscribe(DLQ_SUBJECT, durable=None, stream=DLQ)
    msgs = await sub.fetch(count, timeout=5)
    return msgs


async def test_signal_opens_a_case_and_a_second_about_the_same_person_joins_it(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        # A midwife signals; then JGZ signals about the same mother.
        await publish(js, signal(MOTHER, "a-1"))
        await publish(js, signal(MOTHER, "a-2", risk_factors=["housing"]))
        got = await receipts.wait_for(2)
    by_id = {r["signal_id"]: r for r in got}
    assert by_id["a-1"]["status"] == "accepted"
    assert by_id["a-1"]["matched_existing"] is False
    assert by_id["a-2"]["matched_existing"] is True
    assert by_id["a-1"]["case_id"] == by_id["a-2"]["case_id"]
    case = engine.referrals.get_case(UUID(by_id["a-1"]["case_id"]))
    assert [s["signal_key"] for s in case.signals] == [f"{SOURCE}#a-1", f"{SOURCE}#a-2"]
    assert case.risk_factors == ["debts", "stress", "housing"]
    # No BSN left the intake: not in the receipts.
    assert MOTHER not in json.dumps(got)


def _mutations() -> list[tuple[str, Callable[[], tuple[bytes, str]]]]:
    def doc(**change: Any) -> dict[str, Any]:
        d = signal(MOTHER, "bad")
        for key, value in change.items():
            d[key] = value
        return d

    def encoded(d: dict[str, Any], subject: str = "ks.signals.GM0928") -> tuple[bytes, str]:
        return json.dumps(d).encode(), subject

    wrong_bsn = signal("111222334", "bad")
    no_date = signal(MOTHER, "bad")
    no_date["data"]["phase"] = {"phase": "postnatal"}
    bad_schema = signal(MOTHER, "bad", urgency="whenever")
    not_ce = {"hello": "world"}
    heerlen = signal(MOTHER, "bad", municipality="GM0917")  # in the region, no Knooppunt
    tomorrow = (now() + timedelta(days=1)).date()
    born_tomorrow = signal(MOTHER, "bad", person={"bsn": MOTHER, "birth_date": str(tomorrow)})
    due_in_a_year = signal(
        MOTHER, "bad", phase={"phase": "pregnancy", "date": str(tomorrow + timedelta(days=365))}
    )
    return [
        ("not_json", lambda: (b"{not json", "ks.signals.GM0928")),
        ("not_cloudevent", lambda: encoded(not_ce)),
        ("unknown_type", lambda: encoded(doc(type="com.example.order.v1"))),
        ("unsupported_version", lambda: encoded(doc(type="nl.kansrijkestart.signal.v9"))),
        ("schema_violation", lambda: encoded(bad_schema)),
        ("invalid_bsn", lambda: encoded(wrong_bsn)),
        ("phase_date_missing", lambda: encoded(no_date)),
        ("municipality_mismatch", lambda: encoded(signal(MOTHER, "bad"), "ks.signals.GM0882")),
        ("bsn_as_reference", lambda: encoded(doc(subject=f"client {OTHER}"))),
        ("municipality_not_served", lambda: encoded(heerlen, "ks.signals.GM0917")),
        ("implausible_date", lambda: encoded(born_tomorrow)),
        ("implausible_date", lambda: encoded(due_in_a_year)),
    ]


async def test_each_rejection_class_is_dead_lettered_with_its_reason_and_intake_goes_on(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    cases = _mutations()
    async with Running(engine, nats_server.url):
        for n, (_, make) in enumerate(cases):
            body, subject = make()
            await publish(js, body, subject=subject, msg_id=f"{SOURCE}#bad-{n}")
        # A valid signal after all the bad ones is still processed.
        await publish(js, signal(OTHER, "good-1"))
        got = await receipts.wait_for(len(cases) + 1)
    dead = await dead_letters(js, len(cases))
    codes = [m.headers["Ks-Error-Code"] for m in dead]
    assert codes == [code for code, _ in cases]
    for m in dead:
        reason = m.headers["Ks-Error-Reason"]
        assert reason, "every dead letter says what was wrong"
        assert MOTHER not in reason
        assert "111222334" not in reason
        assert OTHER not in reason
        assert m.headers["Ks-Original-Subject"].startswith("ks.signals.")
        await m.ack()
    # The body is kept for repair, sealed under the engine's key; the headers never carry the BSN.
    assert not any(MOTHER.encode() in m.data for m in dead)
    seal = dead_letter_seal(engine.settings)
    letters = [DeadLetter(0, None, dict(m.headers), m.data) for m in dead]
    assert any(MOTHER.encode() in letter.original(seal).body for letter in letters)
    invalid_bsn = next(m for m in dead if m.headers["Ks-Error-Code"] == "invalid_bsn")
    assert "data.person.bsn" in invalid_bsn.headers["Ks-Error-Reason"]
    dates = [m.headers["Ks-Error-Reason"] for m in dead if "implausible_date" in str(m.headers)]
    assert "data.person.birth_date: the date of birth lies in the future" in dates[0]
    assert "data.phase.date: the expected due date is more than 10 months ahead" in dates[1]
    accepted = [r for r in got if r["status"] == "accepted"]
    rejected = [r for r in got if r["status"] == "rejected"]
    assert len(accepted) == 1
    assert sorted(r["error_code"] for r in rejected) == sorted(code for code, _ in cases)


async def test_unknown_partner_is_refused_when_a_registry_is_configured(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    registry = PartnerRegistry(
        partners=(Partner(id="jgz-zuid-limburg", source="https://jgz.example.nl", name="JGZ"),)
    )
    async with Running(engine, nats_server.url, partners=registry):
        await publish(nc.jetstream(), signal(MOTHER, "x-1"))
        got = await receipts.wait_for(1)
    assert got[0]["status"] == "rejected"
    assert got[0]["error_code"] == "unknown_partner"
    assert "not a registered partner" in got[0]["reason"]


async def test_same_msg_id_twice_has_one_effect(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        await publish(js, signal(MOTHER, "d-1"))
        await publish(js, signal(MOTHER, "d-1"))  # deduplicated by the stream
        await publish(js, signal(MOTHER, "d-2"))
        got = await receipts.wait_for(2)
        await asyncio.sleep(0.3)
    assert len(receipts.items) == 2
    case = engine.referrals.get_case(UUID(got[0]["case_id"]))
    assert len(case.signals) == 2


async def test_republished_after_the_duplicate_window_still_has_one_effect(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path, signals_duplicate_window_seconds=0.5)
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        await publish(js, signal(MOTHER, "w-1"))
        first = (await receipts.wait_for(1))[0]
        # Re-publish until the stream no longer recognises it (past its duplicate window).
        body = json.dumps(signal(MOTHER, "w-1")).encode()
        for _ in range(40):
            await asyncio.sleep(0.25)
            ack = await js.publish(
                "ks.signals.GM0928", body, headers={"Nats-Msg-Id": f"{SOURCE}#w-1"}
            )
            if not ack.duplicate:
                break
        assert not ack.duplicate, "the stream kept deduplicating past its window"
        second = (await receipts.wait_for(2))[1]
    assert second["duplicate"] is True
    assert second["case_id"] == first["case_id"]
    case = engine.referrals.get_case(UUID(first["case_id"]))
    assert case.version == 1
    assert len(case.signals) == 1


async def test_crash_after_commit_before_ack_then_restart_has_one_effect(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    js = nc.jetstream()

    class Crash(BaseException):
        """Stands for the process dying between the commit and the acks."""

    async def crash() -> None:
        raise Crash

    first = make_engine(tmp_path, intake_ack_wait_seconds=1)
    # Both in the stream before the intake starts, so that its first batch holds both (one
    # published while it runs may be fetched alone, and the crash leaves the other unstored).
    await ensure_intake_streams(js, first.settings)
    await publish(js, signal(MOTHER, "c-1"))
    await publish(js, signal(OTHER, "c-2"))
    crashed = Running(first, nats_server.url, after_commit=crash)
    async with crashed:
        with pytest.raises(Crash):
            await asyncio.wait_for(crashed.task, 10)
    first.close()
    assert receipts.items == []  # it died before any receipt or ack

    # Restarted on the same store: the redelivered signals are recognised.
    second = make_engine(tmp_path, intake_ack_wait_seconds=1)
    async with Running(second, nats_server.url):
        got = await receipts.wait_for(2, timeout=15)
    assert all(r["status"] == "accepted" and r["duplicate"] for r in got)
    for r in got:
        case = second.referrals.get_case(UUID(r["case_id"]))
        assert case.version == 1


async def test_restart_resumes_where_the_durable_consumer_left_off(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    js = nc.jetstream()
    engine = make_engine(tmp_path)
    async with Running(engine, nats_server.url):
        for n in range(5):
            await publish(js, signal(MOTHER, f"r-{n}"))
        await receipts.wait_for(5)
    # While the intake is down, partners keep publishing.
    for n in range(5, 10):
        await publish(js, signal(MOTHER, f"r-{n}"))
    async with Running(engine, nats_server.url):
        got = await receipts.wait_for(10)
        await asyncio.sleep(0.3)
    assert len(receipts.items) == 10
    assert not any(r["duplicate"] for r in got)
    case = engine.referrals.get_case(UUID(got[0]["case_id"]))
    assert [s["signal_key"] for s in case.signals] == [f"{SOURCE}#r-{n}" for n in range(10)]


async def test_a_locked_store_makes_the_intake_retry_until_it_succeeds(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path, sqlite_lock_timeout_seconds=1, intake_max_deliveries=10)
    locker = sqlite3.connect(engine.settings.sqlite_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    async with Running(engine, nats_server.url):
        await publish(nc.jetstream(), signal(MOTHER, "l-1"))
        await asyncio.sleep(2.5)
        assert receipts.items == []  # nothing accepted while the store is locked
        locker.execute("ROLLBACK")
        got = await receipts.wait_for(1, timeout=15)
    locker.close()
    assert got[0]["status"] == "accepted"
    assert engine.referrals.get_case(UUID(got[0]["case_id"])).version == 1


async def test_a_store_that_stays_unavailable_dead_letters_after_bounded_deliveries(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path, sqlite_lock_timeout_seconds=1, intake_max_deliveries=2)
    locker = sqlite3.connect(engine.settings.sqlite_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        await publish(js, signal(MOTHER, "u-1"))
        got = await receipts.wait_for(1, timeout=20)
    locker.execute("ROLLBACK")
    locker.close()
    assert got[0]["status"] == "rejected"
    assert got[0]["error_code"] == "processing_failed"
    assert "event store is unavailable" in got[0]["reason"]
    (dead,) = await dead_letters(js, 1)
    assert dead.headers["Ks-Error-Code"] == "processing_failed"
    assert dead.headers["Ks-Deliveries"] == "2"


CHILD = "100000009"


async def test_signals_about_the_co_parent_and_the_child_join_the_mothers_case(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    household = {
        "co_parent": {"bsn": OTHER, "name": "Pieter Vermeulen", "phone": "06 1234 5678"},
        "children": [
            {"person": {"bsn": CHILD, "birth_date": "2024-05-01", "name": "Sem Vermeulen"}},
            {"due_date": "2027-04-15"},
        ],
    }
    async with Running(engine, nats_server.url):
        await publish(js, signal(MOTHER, "h-1", household=household))
        await publish(js, signal(OTHER, "h-2"))
        await publish(js, signal(CHILD, "h-3", phase={"phase": "postnatal", "date": "2024-05-01"}))
        got = await receipts.wait_for(3)
    by_id = {r["signal_id"]: r for r in got}
    assert [by_id[i]["status"] for i in ("h-1", "h-2", "h-3")] == ["accepted"] * 3
    assert by_id["h-2"]["case_id"] == by_id["h-3"]["case_id"] == by_id["h-1"]["case_id"]
    assert by_id["h-2"]["matched_existing"]
    assert by_id["h-3"]["matched_existing"]
    case = engine.referrals.get_case(UUID(by_id["h-1"]["case_id"]))
    assert [m["role"] for m in case.household] == ["parent", "co_parent", "child", "unborn"]
    engine.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for clear in (MOTHER, OTHER, CHILD, "Vermeulen", "1234 5678"):
        assert clear not in json.dumps(got)
        assert clear.encode() not in stored, clear


async def test_a_receipt_never_repeats_a_reference_holding_a_bsn_whatever_refused_it(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    # Refusals found before the references were checked (an unknown type, an unsupported
    # version, a content type) must not carry the envelope's id or source to KS_RECEIPTS.
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    refused = [
        {"type": "nl.example.other"},
        {"type": "nl.kansrijkestart.signal.v9"},
        {"type": "nl.kansrijkestart.support-started.v9"},
        {"datacontenttype": "text/plain"},
    ]
    async with Running(engine, nats_server.url):
        for n, change in enumerate(refused):
            doc = signal(MOTHER, f"client {OTHER}") | change
            doc["source"] = f"{SOURCE}/{OTHER}" if n % 2 else SOURCE
            await publish(js, doc, msg_id=f"ref-{n}")
        got = await receipts.wait_for(len(refused))
    assert [r["status"] for r in got] == ["rejected"] * len(refused)
    for receipt in got:
        assert OTHER not in json.dumps(receipt), receipt
