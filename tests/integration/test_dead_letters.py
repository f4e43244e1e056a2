"""Sealed dead letters on a real nats-server and a real SQLite store: no BSN in clear in KS_DLQ;
`ks dlq show` opens a letter for an administrator and logs it; a replay takes effect once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from typer.testing import CliRunner, Result

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.streams import DLQ, SIGNALS
from entrypoints.cli import app as cli
from ks_engine.access_log import AccessAction, AccessLog, AccessOutcome, AccessQuery, Purpose
from ks_engine.bootstrap import Engine
from ks_engine.partners import Partner, PartnerRegistry
from tests.integration.receipts import Receipts
from tests.integration.test_signal_intake import (
    MOTHER,
    SOURCE,
    Running,
    make_engine,
    publish,
    signal,
)

ADMIN = "beheer-017"
GROUPED = "111 222 333"  # the same BSN as a partner might write it in free text
REGISTRY = PartnerRegistry(
    partners=(Partner(id="verloskunde-parkstad", source=SOURCE, name="Verloskunde Parkstad"),)
)
NO_PARTNERS = PartnerRegistry(partners=())


def ks(tmp_path: Path, server: EmbeddedNatsServer, *args: str) -> Result:
    """Run `ks ...` as an administrator would, on the test's store and server."""
    env = {"KS_DATA_DIR": str(tmp_path), "KS_STORE": "sqlite", "KS_NATS_URL": server.url}
    return CliRunner().invoke(cli, list(args), env=env)


async def ks_async(tmp_path: Path, server: EmbeddedNatsServer, *args: str) -> Result:
    return await asyncio.to_thread(ks, tmp_path, server, *args)


async def only_letter(js: JetStreamContext) -> tuple[int, dict[str, str], bytes]:
    info = await js.stream_info(DLQ)
    assert info.state.messages == 1
    raw = await js.get_msg(DLQ, info.state.last_seq)
    return info.state.last_seq, dict(raw.headers or {}), raw.data or b""


def admin_entries(engine: Engine) -> list[Any]:
    log = AccessLog(engine.referrals, engine.referrals.clock)
    return log.find(AccessQuery(principal_id=ADMIN)).entries


def no_bsn_in(*texts: str | bytes) -> bool:
    joined = b" ".join(t.encode() if isinstance(t, str) else t for t in texts)
    return MOTHER.encode() not in joined and GROUPED.encode() not in joined


async def test_a_rejected_signal_is_sealed_and_only_ks_dlq_show_reveals_it_logged(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    # A partner's system sends a broken document with a BSN in the body and in its message id.
    broken = f'{{"note": "moeder {GROUPED}", "bsn": "{MOTHER}", '.encode()
    async with Running(engine, nats_server.url):
        await publish(js, broken, subject="ks.signals.GM0928", msg_id=f"{SOURCE}#{MOTHER}")
        (receipt,) = await receipts.wait_for(1)
    assert receipt["status"] == "rejected"
    seq, headers, body = await only_letter(js)

    # KS_DLQ holds no BSN in clear: not in the body, not in any header.
    assert no_bsn_in(body, *headers.keys(), *headers.values())
    assert b"moeder" not in body
    assert headers["Ks-Error-Code"] == "not_json"
    assert headers["Ks-Original-Subject"] == "ks.signals.GM0928"
    assert headers["Ks-Sealed"] == "aes-256-gcm/v1"

    # The list shows metadata only.
    listed = await ks_async(tmp_path, nats_server, "dlq", "list", "--user", ADMIN)
    assert listed.exit_code == 0, listed.output
    assert f"{seq:>6}" in listed.output
    assert "not_json" in listed.output
    assert no_bsn_in(listed.output)
    assert "moeder" not in listed.output

    # An administrator opens it for repair: the original message, as it was sent.
    shown = await ks_async(tmp_path, nats_server, "dlq", "show", str(seq), "--user", ADMIN)
    assert shown.exit_code == 0, shown.output
    assert broken.decode() in shown.output
    assert f"header Nats-Msg-Id: {SOURCE}#{MOTHER}" in shown.output
    assert "subject: ks.signals.GM0928" in shown.output

    # Both uses are in the access log: who, as admin, for repair, which letter.
    entries = admin_entries(engine)
    assert [(e.action, e.object) for e in entries] == [
        (AccessAction.READ, "ks dlq list"),
        (AccessAction.READ, f"ks dlq show {seq}"),
    ]
    for entry in entries:
        assert entry.role == "admin"
        assert entry.purpose == Purpose.REPAIR
        assert entry.outcome == AccessOutcome.ALLOWED
        assert entry.source_address.startswith("cli ")
    engine.close()


async def test_show_names_whose_data_it_revealed_and_refuses_unknown_letters_logged(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    async with Running(engine, nats_server.url, partners=NO_PARTNERS):
        await publish(js, signal(MOTHER, "unknown-1"))
        await receipts.wait_for(1)
    seq, headers, body = await only_letter(js)
    assert headers["Ks-Error-Code"] == "unknown_partner"
    assert no_bsn_in(body, *headers.values())

    shown = await ks_async(tmp_path, nats_server, "dlq", "show", str(seq), "--user", ADMIN)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output.split("\n\n", 1)[1])["data"]["person"]["bsn"] == MOTHER
    missing = await ks_async(tmp_path, nats_server, "dlq", "show", "999", "--user", ADMIN)
    assert missing.exit_code == 1
    assert "KS_DLQ holds no message 999" in missing.output
    anonymous = await ks_async(tmp_path, nats_server, "dlq", "show", str(seq), "--user", " ")
    assert anonymous.exit_code == 2
    assert MOTHER not in anonymous.output

    found, refused = admin_entries(engine)
    assert found.person_pseudonym == engine.pseudonymise(MOTHER)
    assert (refused.object, refused.outcome, refused.status) == (
        "ks dlq show 999",
        AccessOutcome.ERROR,
        404,
    )
    engine.close()


async def test_a_replay_after_its_cause_is_repaired_takes_effect_once(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    js = nc.jetstream()
    engine = make_engine(tmp_path, signals_duplicate_window_seconds=1)
    # The partner was not registered yet: its signal is dead-lettered.
    async with Running(engine, nats_server.url, partners=NO_PARTNERS):
        await publish(js, signal(MOTHER, "late-1"))
        await receipts.wait_for(1)
    seq, _, _ = await only_letter(js)
    await asyncio.sleep(1.5)  # past KS_SIGNALS' duplicate window for the partner's message id

    # The coordinator registers the partner; the administrator replays the letter.
    async with Running(engine, nats_server.url, partners=REGISTRY):
        replayed = await ks_async(tmp_path, nats_server, "dlq", "replay", str(seq), "--user", ADMIN)
        assert replayed.exit_code == 0, replayed.output
        (_, accepted) = await receipts.wait_for(2)
        # Replayed again at once: KS_SIGNALS still knows the message id and does not take it.
        again = await ks_async(tmp_path, nats_server, "dlq", "replay", str(seq), "--user", ADMIN)
        assert again.exit_code == 1
        assert "duplicate window" in again.output
        # And once more later: the intake recognises the signal, no second effect.
        await asyncio.sleep(1.5)
        later = await ks_async(tmp_path, nats_server, "dlq", "replay", str(seq), "--user", ADMIN)
        assert later.exit_code == 0, later.output
        (_, _, third) = await receipts.wait_for(3)

    assert accepted["status"] == "accepted"
    assert accepted["duplicate"] is False
    assert third["status"] == "accepted"
    assert third["duplicate"] is True
    assert third["case_id"] == accepted["case_id"]
    case = engine.referrals.get_case(UUID(accepted["case_id"]))
    assert case.version == 1
    assert [s["signal_key"] for s in case.signals] == [f"{SOURCE}#late-1"]
    assert (await js.stream_info(SIGNALS)).state.messages == 0
    entries = admin_entries(engine)
    assert [(e.action, e.status) for e in entries] == [
        (AccessAction.EXECUTE, 202),
        (AccessAction.EXECUTE, 202),  # logged before it was refused: a replay is never unlogged
        (AccessAction.EXECUTE, 409),
        (AccessAction.EXECUTE, 202),
    ]
    assert {e.person_pseudonym for e in entries} == {engine.pseudonymise(MOTHER), None}
    listed = await ks_async(tmp_path, nats_server, "dlq", "list", "--user", ADMIN)
    assert "replayed" in listed.output
    engine.close()


async def test_a_signal_that_took_effect_before_it_was_dead_lettered_is_not_applied_twice(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    js = nc.jetstream()

    class Crash(BaseException):
        """Stands for the process dying between the commit and the ack."""

    async def crash() -> None:
        raise Crash

    first = make_engine(tmp_path, intake_ack_wait_seconds=1, signals_duplicate_window_seconds=1)
    crashed = Running(first, nats_server.url, after_commit=crash)
    async with crashed:
        await publish(js, signal(MOTHER, "stored-1"))
        with pytest.raises(Crash):
            await asyncio.wait_for(crashed.task, 10)
    first.close()
    # Redelivered once too often (limit 1): dead-lettered, although the store holds it.
    second = make_engine(
        tmp_path,
        intake_ack_wait_seconds=1,
        intake_max_deliveries=1,
        signals_duplicate_window_seconds=1,
    )
    async with Running(second, nats_server.url):
        (rejected,) = await receipts.wait_for(1, timeout=15)
        assert rejected["error_code"] == "processing_failed"
        seq, _, _ = await only_letter(js)
        await asyncio.sleep(1.5)  # past KS_SIGNALS' duplicate window for the message id
        replayed = await ks_async(tmp_path, nats_server, "dlq", "replay", str(seq), "--user", ADMIN)
        assert replayed.exit_code == 0, replayed.output
        (_, accepted) = await receipts.wait_for(2)
    assert accepted["status"] == "accepted"
    assert accepted["duplicate"] is True
    case = second.referrals.get_case(UUID(accepted["case_id"]))
    assert case.version == 1
    assert len(case.signals) == 1
    second.close()


async def test_a_server_without_dead_letters_lists_none_and_logs_the_look(
    tmp_path: Path, nats_server: EmbeddedNatsServer
) -> None:
    engine = make_engine(tmp_path)
    listed = await ks_async(tmp_path, nats_server, "dlq", "list", "--user", ADMIN)
    assert listed.exit_code == 0, listed.output
    assert "0 dead letters in KS_DLQ." in listed.output
    (entry,) = admin_entries(engine)
    assert (entry.object, entry.status) == ("ks dlq list", 200)
    engine.close()
