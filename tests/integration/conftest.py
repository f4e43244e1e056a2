"""Fixtures shared by the integration tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from tests.integration.receipts import Receipts


@pytest.fixture
async def js(nats_server: EmbeddedNatsServer) -> AsyncIterator[JetStreamContext]:
    """JetStream on the test's real nats-server, with stream KS_EVENTS declared."""
    nc = await nats.connect(nats_server.url)
    stream = nc.jetstream()
    await ensure_events_stream(stream)
    yield stream
    await nc.close()


@pytest.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    """A client of the test's real nats-server."""
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
async def receipts(nc: Client) -> Receipts:
    """The receipts published from now on, as a partner subscribed to them sees them."""
    collected = Receipts()

    async def on_receipt(msg: Any) -> None:
        collected.items.append(json.loads(msg.data))

    await nc.subscribe("ks.receipts.>", cb=on_receipt)
    return collected
