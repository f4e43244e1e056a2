"""JetStream encrypted at rest with nats-server's own store cipher, on the embedded server that
`ks run` starts and on the shipped 3-node cluster: no store file holds a BSN, a pseudonym or a
risk code in clear, and a restarted server reads its store with the key (and only with it)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from pydantic import SecretStr

from adapters.nats.embedded import EmbeddedNatsServer, EmbeddedServerError, free_port
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.intake import Intake
from adapters.nats.relay import run_relay
from adapters.nats.streams import DLQ, SIGNALS, ensure_intake_streams
from ks_engine.audit.replay import case_ids
from ks_engine.bootstrap import bootstrap
from ks_engine.runtime import nats_link
from ks_engine.settings import Settings, new_secrets
from ks_engine.signal_contract import example_signal
from projections.event import STREAM as EVENTS
from tests.nats_cluster import NatsCluster, once_elected

MOTHER = "111222333"
RISK_CODES = ("debts", "stress")
SOURCE = "https://verloskunde-parkstad.nl"


def files_holding(store: Path, secrets: list[str]) -> dict[str, list[str]]:
    """For each secret, the store files that hold its bytes in clear."""
    found: dict[str, list[str]] = {s: [] for s in secrets}
    for path in store.rglob("*"):
        if path.is_file() and path.suffix not in {".log", ".conf"} and "stderr" not in path.name:
            content = path.read_bytes()
            for secret in secrets:
                if secret.encode() in content:
                    found[secret].append(str(path.relative_to(store)))
    return {s: paths for s, paths in found.items() if paths}


def signal_body(event_id: str, bsn: str = MOTHER) -> bytes:
    return json.dumps(example_signal(bsn, event_id=event_id, source=SOURCE)).encode()


async def test_the_embedded_store_holds_no_personal_data_in_clear_and_needs_its_key(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite", embedded_nats_port=free_port())
    engine = bootstrap(settings, configure_logs=False)
    pseudonym = engine.pseudonymise(MOTHER)
    async with nats_link(settings, embedded=True) as link:
        js = link.js
        await ensure_intake_streams(js, settings)
        await ensure_events_stream(js, settings.nats_replicas)
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(Intake(engine, js).run(stop)),
            asyncio.create_task(run_relay(engine, js, stop)),
        ]
        # A valid signal (a case: events with the pseudonym and risk codes on KS_EVENTS), and
        # an invalid one (a dead letter).
        await js.publish("ks.signals.GM0928", signal_body("enc-1"), headers={"Nats-Msg-Id": "a"})
        await js.publish("ks.signals.GM0928", b'{"bsn": "111222333"', headers={"Nats-Msg-Id": "b"})
        for _ in range(200):
            events = (await js.stream_info(EVENTS)).state.messages
            dead = (await js.stream_info(DLQ)).state.messages
            if events and dead:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*workers)
        assert events
        assert dead
        # What the engine itself publishes does carry them (so the check below could fail).
        published = b"".join(
            [(await js.get_msg(EVENTS, seq)).data or b"" for seq in range(1, events + 1)]
        )
        [case] = case_ids(engine.referrals)  # the case the engine stored for the signal
        case_id = str(case)
        assert case_id.encode() in published
        assert all(code.encode() in published for code in RISK_CODES)
        # (the person's pseudonym no longer goes out on KS_EVENTS: erasure leaves no link)
        assert pseudonym.encode() not in published
    engine.close()

    store = settings.nats_store_dir
    assert files_holding(store, [MOTHER, pseudonym, case_id, *RISK_CODES, SOURCE]) == {}

    # Restarted with the key (from the data directory, as in development): all is there.
    async with nats_link(settings, embedded=True) as link:
        assert (await link.js.stream_info(EVENTS)).state.messages == events
        assert (await link.js.stream_info(DLQ)).state.messages == dead
        first = await link.js.get_msg(EVENTS, 1)
        assert case_id.encode() in (first.data or b"")

    # With another key, or none, the server is not used at all: the engine would otherwise
    # declare empty streams over the data it cannot read.
    other = settings.model_copy(
        update={"nats_store_key": SecretStr(new_secrets()["nats_store_key"])}
    )
    with pytest.raises(EmbeddedServerError, match="cannot be read with this key"):
        async with nats_link(other, embedded=True):
            pass
    with pytest.raises(EmbeddedServerError, match="cannot be read with no key"):
        EmbeddedNatsServer(store, port=free_port()).start()


async def test_without_a_key_the_same_store_would_hold_the_bsn_in_clear(tmp_path: Path) -> None:
    # The control for the check above: the grep finds what an unencrypted store keeps.
    with EmbeddedNatsServer(tmp_path / "plain") as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(name=SIGNALS, subjects=["ks.signals.>"])
        await js.publish("ks.signals.GM0928", signal_body("plain-1"))
        await nc.close()
    assert MOTHER in files_holding(tmp_path / "plain", [MOTHER])


async def test_the_shipped_cluster_encrypts_every_node_store(nats_cluster: NatsCluster) -> None:
    credentials = nats_cluster.engine.connect_options()
    nc = await nats.connect(**credentials)
    js = nc.jetstream()
    await ensure_intake_streams(js, Settings(nats_replicas=3))
    # Each new stream of three replicas answers once its own leader is elected.
    ack = await once_elected(
        lambda: js.publish("ks.signals.GM0928", signal_body("cluster-1"), timeout=10)
    )
    await once_elected(
        lambda: js.publish("ks.dlq.signals", b"dead letter of 111222333", timeout=10)
    )
    await nc.close()

    nats_cluster.stop()
    for node in nats_cluster.nodes:
        assert (
            "Encryption:      ChaCha20-Poly1305" in (node.directory / "nats-server.log").read_text()
        )
        assert files_holding(node.directory / "store", [MOTHER, SOURCE, *RISK_CODES]) == {}

    # Started again with the key of the shipped secret: every stream reads back.
    nats_cluster.start_again()
    nc = await nats.connect(**credentials)
    js = nc.jetstream()
    # Each stream elects its leader on its own after the restart.
    stored = await once_elected(lambda: js.get_msg(SIGNALS, ack.seq))
    assert MOTHER.encode() in (stored.data or b"")
    dead_letters = (await once_elected(lambda: js.stream_info(DLQ))).state.messages
    assert dead_letters == 1
    await nc.close()
