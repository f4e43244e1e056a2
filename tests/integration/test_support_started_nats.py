"""A provider confirms over NATS that support started: on a real JetStream server and SQLite.

The provider is played by plain nats-py publishes on ``ks.signals.<municipality>``, as its
integration would do it; the intake judges the confirmation like a signal.
"""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from domain.lifecycle import State
from domain.values import Actor, ActorRole, HealthScores, Need
from ks_engine import commands as c
from ks_engine.bootstrap import Engine
from ks_engine.clock import now
from ks_engine.support_start_contract import example_support_started
from tests.integration.receipts import Receipts
from tests.integration.test_signal_intake import (
    MOTHER,
    Running,
    dead_letters,
    make_engine,
    publish,
    signal,
)

PROVIDER = "schuldhulp-parkstad"  # the debt counselling offer's provider on the menukaart
OTHER_PROVIDER = "https://woonconsulent-regio.nl"
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c1")


def consented_case(engine: Engine, case_id: UUID) -> None:
    """The family's consent names the provider, as a coordinator records it."""
    app, ctx = engine.referrals, c.Context(actor=COORDINATOR, causation_id="setup")
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[PROVIDER]), ctx)


def matched_case(engine: Engine, case_id: UUID, *, consented: bool = False) -> None:
    """Consent naming the provider, a discussion and the match, as a coordinator records them."""
    app, ctx = engine.referrals, c.Context(actor=COORDINATOR, causation_id="setup")
    today = app.clock().date()
    if not consented:
        consented_case(engine, case_id)
    scores = HealthScores(
        bodily_functions=5,
        mental_wellbeing=4,
        meaningfulness=6,
        quality_of_life=5,
        participation=5,
        daily_functioning=6,
    )
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id,
            on=today,
            participants=[PROVIDER],
            scores=scores,
            needs=[Need.FINANCIAL],
        ),
        ctx,
    )
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="consulent",
            planned_start=today,
        ),
        ctx,
    )


async def signalled_case(engine: Engine, js: JetStreamContext, receipts: Receipts) -> UUID:
    await publish(js, signal(MOTHER, f"s-{uuid4()}"))
    got = await receipts.wait_for(len(receipts.items) + 1)
    return UUID(got[-1]["case_id"])


def confirmation(case_id: UUID, event_id: str, **change: Any) -> dict[str, Any]:
    doc = example_support_started(case_id, source=PROVIDER, event_id=event_id)
    doc["data"]["on"] = now().date().isoformat()
    doc.update(change)
    return doc


def support_events(engine: Engine, case_id: UUID) -> list[str]:
    events = engine.referrals.repository.event_store.get(case_id)
    return [type(e).__name__ for e in events if type(e).__name__ == "SupportStarted"]


async def test_the_named_provider_confirms_and_a_redelivery_is_applied_once(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        case_id = await signalled_case(engine, js, receipts)
        await asyncio.to_thread(matched_case, engine, case_id)
        doc = confirmation(case_id, "start-1")
        await publish(js, doc, msg_id=f"{PROVIDER}#start-1")
        # The provider sends it again, with another Nats-Msg-Id: past the stream's dedup.
        await publish(js, doc, msg_id=f"{PROVIDER}#start-1/again")
        got = await receipts.wait_for(3)
    first, again = got[1], got[2]
    assert first["status"] == again["status"] == "accepted"
    assert first["case_id"] == again["case_id"] == str(case_id)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    case = engine.referrals.get_case(case_id)
    assert case.state is State.SUPPORT_STARTED
    assert case.support_started is not None
    assert case.support_started["by"] == PROVIDER
    assert support_events(engine, case_id) == ["SupportStarted"]


async def test_a_crash_after_the_commit_is_followed_by_one_effect(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    js = nc.jetstream()

    class Crash(BaseException):
        """Stands for the process dying between the commit and the ack."""

    async def crash() -> None:
        raise Crash

    first = make_engine(tmp_path, intake_ack_wait_seconds=1)
    async with Running(first, nats_server.url):
        case_id = await signalled_case(first, js, receipts)
    await asyncio.to_thread(matched_case, first, case_id)
    crashed = Running(first, nats_server.url, after_commit=crash)
    async with crashed:
        await publish(js, confirmation(case_id, "start-2"))
        with pytest.raises(Crash):
            await asyncio.wait_for(crashed.task, 10)
    first.close()
    assert len(receipts.items) == 1  # only the signal's: it died before the receipt and ack

    second = make_engine(tmp_path, intake_ack_wait_seconds=1)
    async with Running(second, nats_server.url):
        got = await receipts.wait_for(2, timeout=15)
    assert got[1]["status"] == "accepted"
    assert got[1]["duplicate"] is True
    assert second.referrals.get_case(case_id).state is State.SUPPORT_STARTED
    assert support_events(second, case_id) == ["SupportStarted"]


async def test_refused_confirmations_are_dead_lettered_with_their_reasons(
    tmp_path: Path, nats_server: EmbeddedNatsServer, nc: Client, receipts: Receipts
) -> None:
    engine = make_engine(tmp_path)
    js = nc.jetstream()
    async with Running(engine, nats_server.url):
        case_id = await signalled_case(engine, js, receipts)
        # Consent names the provider, but nothing was matched yet: the case refuses.
        await asyncio.to_thread(consented_case, engine, case_id)
        await publish(js, confirmation(case_id, "early"))
        await receipts.wait_for(2)
        await asyncio.to_thread(partial(matched_case, consented=True), engine, case_id)
        # A provider the consent does not name, a case that does not exist, bad data.
        stranger = confirmation(case_id, "stranger", source=OTHER_PROVIDER)
        unknown = confirmation(uuid4(), "unknown")
        no_lead = confirmation(case_id, "no-lead")
        del no_lead["data"]["lead_professional"]
        future = confirmation(case_id, "future")
        future["data"]["on"] = "2999-01-01"
        version = confirmation(case_id, "v2", type="nl.kansrijkestart.support-started.v2")
        for doc in (stranger, unknown, no_lead, future, version):
            await publish(js, doc)
        got = await receipts.wait_for(7)
    rejected = {r["signal_id"]: r for r in got if r["status"] == "rejected"}
    assert {k: r["error_code"] for k, r in rejected.items()} == {
        "early": "refused_by_case",
        "stranger": "not_in_consent_scope",
        "unknown": "unknown_case",
        "no-lead": "schema_violation",
        "future": "implausible_date",
        "v2": "unsupported_version",
    }
    assert "not allowed in state consented" in rejected["early"]["reason"]
    assert f"does not name {OTHER_PROVIDER}" in rejected["stranger"]["reason"]
    assert "data.lead_professional" in rejected["no-lead"]["reason"]
    dead = await dead_letters(js, 6)
    assert sorted(m.headers["Ks-Error-Code"] for m in dead) == sorted(
        r["error_code"] for r in rejected.values()
    )
    assert all(m.headers["Ks-Original-Subject"] == "ks.signals.GM0928" for m in dead)
    # Nothing refused changed the case: it still waits for the provider it names.
    assert engine.referrals.get_case(case_id).state is State.SUPPORT_MATCHED
    assert MOTHER not in json.dumps(got)
