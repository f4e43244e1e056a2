"""The API's count of the intake's decisions, from the receipts as they are published (real
nats-server): accepted and rejected counted as such, anything else as unreadable, nothing
after it stops, and other subscribers of the receipts served as before."""

from __future__ import annotations

import nats
from nats.aio.msg import Msg

from adapters.http.nats_signals import ReceiptCounter
from adapters.nats.embedded import EmbeddedNatsServer
from ks_engine.receipts import RECEIPT_SUBJECT_PREFIX
from tests.integration.test_raw_deliveries import until


async def test_each_receipt_counted_by_its_status(nats_server: EmbeddedNatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    counted: list[str] = []
    counter = ReceiptCounter(nc, counted.append)
    await counter.start()
    others: list[Msg] = []

    async def keep(msg: Msg) -> None:
        others.append(msg)

    await nc.subscribe(f"{RECEIPT_SUBJECT_PREFIX}.>", cb=keep)
    bodies = [
        b'{"status": "accepted", "signal": "a"}',
        b'{"status": "rejected", "reasons": ["..."]}',
        b'{"status": "maybe"}',
        b'["accepted"]',
        b"not json",
        b'{"no": "status"}',
    ]
    for n, body in enumerate(bodies):
        await nc.publish(f"{RECEIPT_SUBJECT_PREFIX}.{n}", body, headers={"Nats-Msg-Id": str(n)})
    await nc.flush()
    await until(lambda: len(others) == len(bodies))
    assert counted == ["accepted", "rejected", *["unreadable"] * 4]
    assert [m.data for m in others] == bodies
    assert others[0].headers == {"Nats-Msg-Id": "0"}
    await counter.stop()
    await nc.publish(f"{RECEIPT_SUBJECT_PREFIX}.late", b'{"status": "accepted"}')
    await nc.flush()
    await until(lambda: len(others) == len(bodies) + 1)
    assert len(others) == len(bodies) + 1
    assert len(counted) == len(bodies)  # not counted once stopped
    await nc.close()
