"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream


@pytest.fixture
async def js(nats_server: EmbeddedNatsServer) -> AsyncIterator[JetStreamContext]:
    """JetStream on the test's real nats-server, with stream KS_EVENTS declared."""
    nc = await nats.connect(nats_server.url)
    stream = nc.jetstream()
    await ensure_events_stream(stream)
    yield stream
    await nc.close()
