"""The relay against a real nats-server and a real SQLite event store (the main properties also
on PostgreSQL): every Referral event exactly once, in order, without personal data, across
crashes."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType
from nats.js.errors import APIError
from typer.testing import CliRunner

from adapters.nats.events_stream import DUPLICATE_WINDOW_SECONDS, ensure_events_stream
from adapters.nats.relay import Relay, RelayPosition, is_referral
from entrypoints.cli import app as cli
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.event import STREAM
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import SECRET_MARKS, notifications, play, referrals


@pytest.fixture
def app(clock: FixedClock, tmp_path: Path) -> Referrals:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
    }
    return referrals(clock, env)


@pytest.fixture
def engine(durable_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """The event store and the relay's position on SQLite files or on PostgreSQL."""
    built = bootstrap(durable_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


async def stream_messages(js: JetStreamContext) -> list[tuple[str, dict[str, str], bytes]]:
    """Every message in KS_EVENTS: subject, headers, payload."""
    last = (await js.stream_info(STREAM)).state.last_seq
    found = []
    for seq in range(1, last + 1):
        m = await js.get_msg(STREAM, seq=seq)
        found.append((m.subject or "", dict(m.headers or {}), m.data or b""))
    return found


def expected_positions(app: Referrals) -> list[int]:
    return [n.id for n in notifications(app) if is_referral(n)]


async def drain(relay: Relay) -> None:
    """Publish until the relay has read the whole log."""
    while await relay.publish_pending():
        pass


async def assert_exactly_once_in_order(js: JetStreamContext, app: Referrals) -> None:
    messages = await stream_messages(js)
    bodies = [json.loads(data) for _, _, data in messages]
    assert [b["position"] for b in bodies] == expected_positions(app)
    assert len({b["id"] for b in bodies}) == len(bodies)


async def test_every_referral_event_is_published_once_in_order_as_a_cloudevent(
    js: JetStreamContext, engine: Engine, clock: FixedClock
) -> None:
    # Given an event store with many cases (and index and idempotency records in between)
    app = engine.referrals
    play(app, clock, seed=5, steps=80)
    tracking = engine.relay_position()
    relay = Relay(app, js, tracking)
    # When the relay runs until it has read the whole log
    await relay.start()
    await drain(relay)
    # Then the stream holds one CloudEvent per Referral event, in log order
    await assert_exactly_once_in_order(js, app)
    for subject, headers, data in await stream_messages(js):
        body = json.loads(data)
        name = body["type"].removeprefix("nl.kansrijkestart.referral.").removesuffix(".v1")
        assert subject == f"ks.events.{body['municipality']}.{name}"
        assert headers["Nats-Msg-Id"] == body["id"]
        assert (body["specversion"], body["source"], body["datacontenttype"]) == (
            "1.0",
            "urn:ks-engine",
            "application/json",
        )
        assert body["subject"]
        assert body["time"] == body["data"]["occurred_at"]
        assert body["through"] >= body["position"]
    # And its position is recorded: the whole log
    assert tracking.get() == notifications(app)[-1].id


async def test_a_relay_that_crashed_before_recording_its_position_publishes_no_duplicate(
    js: JetStreamContext, app: Referrals, clock: FixedClock, tmp_path: Path
) -> None:
    play(app, clock, seed=8, steps=60)
    path = tmp_path / "relay.sqlite"

    # Given a relay that dies after the stream acknowledged its third window, before it
    # could record that position
    class Crashing(RelayPosition):
        calls = 0

        def set(self, position: int) -> None:
            Crashing.calls += 1
            if Crashing.calls == 3:
                raise RuntimeError("killed")
            super().set(position)

    first = Relay(app, js, Crashing(path), resume_from_stream=False, window=10)
    await first.start()
    with pytest.raises(RuntimeError, match="killed"):
        await drain(first)
    published_before = (await js.stream_info(STREAM)).state.messages
    assert published_before > 0
    # When a new relay starts from the recorded position (the stream is not consulted)
    second = Relay(app, js, RelayPosition(path), resume_from_stream=False, window=10)
    assert await second.start() < notifications(app)[30].id
    await drain(second)
    # Then the third window was sent again, and the stream kept each event once
    assert second.held_already > 0
    await assert_exactly_once_in_order(js, app)

    # And a relay that lost its record entirely resumes after the stream's last event,
    # without relying on the duplicate window
    play(app, clock, seed=9, steps=20)
    (path).unlink()
    third = Relay(app, js, RelayPosition(path))
    last_published = json.loads((await stream_messages(js))[-1][2])["position"]
    before = (await js.stream_info(STREAM)).state.messages
    assert await third.start() == last_published
    await drain(third)
    assert (await js.stream_info(STREAM)).state.messages > before
    assert third.held_already == 0
    await assert_exactly_once_in_order(js, app)


async def test_a_relay_cancelled_at_random_moments_and_restarted_loses_and_doubles_nothing(
    js: JetStreamContext, engine: Engine, clock: FixedClock
) -> None:
    rng = random.Random(42)
    app = engine.referrals
    for seed in range(6):
        # New cases arrive while a relay runs; it is killed at a random moment
        play(app, clock, seed=seed, steps=25)
        stop = asyncio.Event()
        relay = Relay(app, js, engine.relay_position())
        task = asyncio.create_task(relay.run(stop, poll=0.01))
        await asyncio.sleep(rng.uniform(0.0, 0.05))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # A last relay runs to the end of the log
    final = Relay(app, js, engine.relay_position())
    await final.start()
    await drain(final)
    await assert_exactly_once_in_order(js, app)


async def test_no_personal_data_or_free_text_is_published(
    js: JetStreamContext, app: Referrals, clock: FixedClock, tmp_path: Path
) -> None:
    # Given cases whose signals carry names, birth dates and notes, and whose escalations,
    # closings and support matches carry free text
    play(app, clock, seed=7, steps=300)
    relay = Relay(app, js, RelayPosition(tmp_path / "relay.sqlite"))
    await relay.start()
    await drain(relay)
    messages = await stream_messages(js)
    names = {json.loads(data)["type"] for _, _, data in messages}
    assert {
        f"nl.kansrijkestart.referral.{n}.v1" for n in ("Escalated", "Closed", "SupportMatched")
    } <= names
    # Then no published byte (subject, header or payload) contains any of them
    raw = b"\n".join(s.encode() + json.dumps(h).encode() + d for s, h, d in messages)
    for mark in SECRET_MARKS:
        assert mark.encode() not in raw, mark
    # Nor the partners' signal keys, nor the fields that carry free text
    assert b"partner-" not in raw
    for field in (
        b'"personal"',
        b'"justification"',
        b'"reason"',
        b'"lead_professional"',
        b'"note"',
        b'"birth_date"',
        b'"causation_id"',
        b'"signal_key"',
    ):
        assert field not in raw


async def test_the_events_stream_is_append_only_and_declared_idempotently(
    js: JetStreamContext,
) -> None:
    await ensure_events_stream(js)
    info = await ensure_events_stream(js, replicas=1)
    config = info.config
    assert config.subjects == ["ks.events.>"]
    assert (config.storage, config.deny_delete, config.deny_purge) == (StorageType.FILE, True, True)
    assert (config.max_msgs, config.num_replicas) == (-1, 1)
    assert config.duplicate_window == DUPLICATE_WINDOW_SECONDS
    await js.publish("ks.events.GM0928.Probe", b"{}")
    with pytest.raises(APIError):
        await js.purge_stream(STREAM)
    with pytest.raises(APIError):
        await js.delete_msg(STREAM, 1)
    assert (await js.stream_info(STREAM)).state.messages == 1


def test_ks_relay_without_a_nats_url_says_how_to_set_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["relay"], env={"KS_DATA_DIR": str(tmp_path), "KS_NATS_URL": ""}
    )
    assert result.exit_code == 2
    assert "KS_NATS_URL is not set" in result.output
