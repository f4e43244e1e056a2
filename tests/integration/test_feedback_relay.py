"""Feedback to the partners who signalled, published by the relay to a real nats-server from a
real SQLite event store: what the consent allows, to each partner's own subject, exactly once
through relays killed at any publish."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
import pytest
from nats.js import JetStreamContext

from adapters.http.nats_signals import NatsSignalGateway
from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.feedback import FeedbackTranslator, ensure_feedback_stream
from adapters.nats.relay import Relay, RelayPosition, is_referral
from domain.values import Actor, ActorRole, Need, Outcome
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.feedback_contract import FEEDBACK_STREAM, current_feedback
from ks_engine.partners import Partner, PartnerRegistry, partner_token
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import make_signal, scores
from tests.unit.test_projection_scenario import SECRET_MARKS, notifications, play

MIDWIFE = "https://verloskunde-parkstad.nl"
JGZ = "ggd-zuid-limburg"
DEBTS = "schuldhulp-parkstad"
PARTNERS = PartnerRegistry(partners=(Partner(id="vk-parkstad", source=MIDWIFE, name="VK"),))
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c1")
CTX = c.Context(actor=COORDINATOR, causation_id="req")


@pytest.fixture
def engine(durable_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """The event store on a SQLite file or on PostgreSQL."""
    built = bootstrap(durable_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


@pytest.fixture
async def js(nats_server: EmbeddedNatsServer, engine: Engine) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_server.url)
    stream = nc.jetstream()
    await ensure_events_stream(stream)
    await ensure_feedback_stream(stream, engine.settings)
    yield stream
    await nc.close()


def relay(engine: Engine, js: Any, path: Path) -> Relay:
    feedback = FeedbackTranslator(engine.referrals, PARTNERS)
    return Relay(engine.referrals, js, RelayPosition(path), window=7, feedback=feedback)


async def drain(r: Relay) -> None:
    await r.start()
    while await r.publish_pending():
        pass


async def feedback_messages(js: JetStreamContext) -> list[tuple[str, dict[str, str], Any]]:
    last = (await js.stream_info(FEEDBACK_STREAM)).state.last_seq
    found = []
    for seq in range(1, last + 1):
        m = await js.get_msg(FEEDBACK_STREAM, seq=seq)
        found.append((m.subject or "", dict(m.headers or {}), json.loads(m.data or b"")))
    return found


def signal_from(engine: Engine, source: str, own_id: str) -> UUID:
    signal = make_signal(key=f"{source}#{own_id}")
    ctx = c.Context(actor=Actor(organisation=source, role=ActorRole.PARTNER), causation_id="s")
    case_id = engine.referrals.receive_signal(signal, ctx).case_id
    assert case_id is not None
    return case_id


def walk_to_closing(engine: Engine, case_id: UUID, scope: list[str]) -> None:
    app, today = engine.referrals, engine.referrals.clock().date()
    app.request_consent(c.RequestConsent(case_id=case_id), CTX)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=scope), CTX)
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id, on=today, participants=[JGZ], scores=scores(), needs=[Need.FINANCIAL]
        ),
        CTX,
    )
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="Els",
            planned_start=today,
        ),
        CTX,
    )
    app.start_support(c.StartSupport(case_id=case_id, on=today, lead_professional="Els"), CTX)
    app.close_case(
        c.Close(case_id=case_id, outcome=Outcome.SUPPORT_COMPLETED, reason="afgerond, Anna"), CTX
    )


async def test_each_partner_hears_on_its_own_subject_what_the_consent_allows(
    engine: Engine, js: JetStreamContext, tmp_path: Path
) -> None:
    # The midwife signals; JGZ signals about the same mother; the family's consent names JGZ.
    case_id = signal_from(engine, MIDWIFE, "vk-1")
    assert signal_from(engine, JGZ, "jgz-1") == case_id
    walk_to_closing(engine, case_id, [JGZ, DEBTS])
    await drain(relay(engine, js, tmp_path / "relay.sqlite"))

    got = await feedback_messages(js)
    heard = [(s, m["data"]["status"], m["data"].get("result")) for s, _, m in got]
    vk, jgz = "ks.feedback.GM0928.vk-parkstad", f"ks.feedback.GM0928.{partner_token(JGZ, None)}"
    assert heard == [
        (vk, "accepted", None),
        (jgz, "accepted", None),
        (vk, "consent_given", None),
        (jgz, "consent_given", None),
        (jgz, "discussed", None),
        (jgz, "support_started", None),
        (jgz, "closed", "support_completed"),
    ]
    first = got[0][2]
    assert (first["type"], first["source"], first["subject"]) == (
        "nl.kansrijkestart.feedback.v1",
        "urn:ks-engine",
        str(case_id),
    )
    assert first["data"]["signals"][0]["id"] == "vk-1"
    assert first["data"]["case"] == "new"
    assert got[1][2]["data"]["case"] == "joined"
    assert all(h["Nats-Msg-Id"] == m["id"] for _, h, m in got)
    # No personal data, no free text: not the closing reason, not the lead professional.
    raw = json.dumps([m for _, _, m in got])
    for secret in ("Anna", "Els", "afgerond", engine.referrals.get_case(case_id).person_pseudonym):
        assert secret not in raw

    # GET /signals reads a partner's own subject only.
    gateway = NatsSignalGateway(js, partners=PARTNERS)
    (midwife,) = current_feedback(await gateway.feedback(MIDWIFE))
    assert (midwife.signal_id, midwife.status.value, midwife.case) == (
        "vk-1",
        "consent_given",
        "new",
    )
    (jgz_signal,) = current_feedback(await gateway.feedback(JGZ))
    assert (jgz_signal.status.value, jgz_signal.result, jgz_signal.case) == (
        "closed",
        "support_completed",
        "joined",
    )
    assert await gateway.feedback("https://someone-else.example") == []


class Killed(Exception):
    """Stands for the relay's process dying at a publish."""


class DyingConnection:
    """The relay's NATS connection, dying after ``lives`` publishes (messages sent before the
    death may still be stored, as when a process is killed)."""

    def __init__(self, nc: Any, lives: int) -> None:
        self._nc, self.lives = nc, lives

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nc, name)

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        self._die_or_live()
        return await self._nc.publish(*args, **kwargs)

    async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
        if cmd.startswith(b"HPUB "):  # a message framed by the relay (ordered_publish)
            self._die_or_live()
        await self._nc._send_command(cmd, priority)

    def _die_or_live(self) -> None:
        if self.lives <= 0:
            raise Killed
        self.lives -= 1


class Dying:
    """JetStream whose connection dies after ``lives`` publishes."""

    def __init__(self, js: JetStreamContext, lives: int) -> None:
        self._js = js
        self._nc = DyingConnection(js._nc, lives)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


async def test_relays_killed_at_random_publishes_send_each_feedback_once(
    engine: Engine, js: JetStreamContext, clock: FixedClock, tmp_path: Path
) -> None:
    rng = random.Random(17)
    app = engine.referrals
    play(app, clock, seed=3, steps=160)
    path = tmp_path / "relay.sqlite"
    # A duplicate window too short to hide a second publication: exactly once must come from
    # the relay resuming after what KS_FEEDBACK holds.
    config = (await js.stream_info(FEEDBACK_STREAM)).config
    config.duplicate_window = 0.1
    await js.update_stream(config)
    # Relays die one after the other, each after a random number of publishes.
    deaths = 0
    for _ in range(14):
        try:
            await drain(relay(engine, Dying(js, rng.randint(0, 12)), path))
        except Killed:
            deaths += 1
        await js._nc.flush()  # what the dead relay sent is in before the next one starts
        await asyncio.sleep(0.2)
    assert deaths >= 10
    await drain(relay(engine, js, path))

    # Exactly the feedback the log gives, once each, in log order.
    translator = FeedbackTranslator(app, PARTNERS)
    expected = [
        f.out.msg_id
        for n in notifications(app)
        if is_referral(n)
        for f in translator.messages(n, app.mapper.to_domain_event(n), "x")
    ]
    got = await feedback_messages(js)
    assert len(expected) > 20, "the traffic gave feedback"
    assert [h["Nats-Msg-Id"] for _, h, _ in got] == expected
    raw = json.dumps([m for _, _, m in got])
    for mark in SECRET_MARKS:
        assert mark not in raw
