"""The embedded nats-server starts with JetStream on loopback and stops cleanly."""

from __future__ import annotations

import nats

from adapters.nats.embedded import EmbeddedNatsServer


async def test_embedded_server_offers_jetstream(nats_server: EmbeddedNatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        info = await js.account_info()
        assert info.limits is not None
        await js.add_stream(name="PROBE", subjects=["probe.>"])
        ack = await js.publish("probe.one", b"x")
        assert ack.seq == 1
    finally:
        await nc.close()
