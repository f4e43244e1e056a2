"""The signal gateway over JetStream: HTTP partners' signals enter the NATS partners' pipeline."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import nats.errors
import orjson
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from adapters.http.ports import SignalGatewayError
from adapters.nats.raw_deliveries import subscribe_raw, unsubscribe_raw
from ks_engine.feedback_contract import FEEDBACK_STREAM, FeedbackData, feedback_subject
from ks_engine.partners import PartnerRegistry, partner_token
from ks_engine.receipts import RECEIPT_SUBJECT_PREFIX, Receipt

FEEDBACK_BATCH = 500


class NatsSignalGateway:
    """Publishes to ``ks.signals.<municipality>`` and reads receipts from their stream."""

    def __init__(
        self,
        js: JetStreamContext,
        *,
        receipts_stream: str = "KS_RECEIPTS",
        timeout: float = 5.0,
        partners: PartnerRegistry | None = None,
    ) -> None:
        self.js = js
        self.receipts_stream = receipts_stream
        self.timeout = timeout
        self.partners = partners

    async def submit(self, subject: str, body: bytes, msg_id: str) -> None:
        """Publish with ``Nats-Msg-Id`` and wait for the stream's acknowledgement."""
        try:
            await self.js.publish(
                subject, body, timeout=self.timeout, headers={"Nats-Msg-Id": msg_id}
            )
        except (nats.errors.Error, TimeoutError) as exc:
            raise SignalGatewayError(f"the signal stream did not accept it ({exc!r})") from None

    async def receipt(self, reference: str) -> Receipt | None:
        """The latest receipt published for ``reference`` (any municipality and partner)."""
        subject = f"{RECEIPT_SUBJECT_PREFIX}.*.*.{reference}"
        try:
            msg = await self.js.get_last_msg(self.receipts_stream, subject)
        except NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError) as exc:
            raise SignalGatewayError(f"receipts cannot be read now ({exc!r})") from None
        return Receipt.model_validate_json(msg.data) if msg.data else None

    async def feedback(self, source: str) -> list[FeedbackData]:
        """Every feedback message KS_FEEDBACK holds for the partner ``source``, in order.

        Read through a short-lived consumer on the partner's own subjects only
        (``ks.feedback.*.<partner>``), so another partner's feedback is never read.
        """
        subject = feedback_subject("*", partner_token(source, self.partners))
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=10.0
        )
        try:
            sub = await self.js.pull_subscribe(
                subject, durable=None, stream=FEEDBACK_STREAM, config=config
            )
        except NotFoundError:
            return []  # the relay has not declared the stream yet: no feedback so far
        except (nats.errors.Error, TimeoutError) as exc:
            raise SignalGatewayError(f"feedback cannot be read now ({exc!r})") from None
        try:
            return await self._read_all(sub)
        except (nats.errors.Error, TimeoutError) as exc:
            raise SignalGatewayError(f"feedback cannot be read now ({exc!r})") from None
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _read_all(self, sub: JetStreamContext.PullSubscription) -> list[FeedbackData]:
        found: list[FeedbackData] = []
        pending = (await sub.consumer_info()).num_pending
        while pending:
            msgs = await sub.fetch(min(pending, FEEDBACK_BATCH), timeout=self.timeout)
            for msg in msgs:
                found.append(FeedbackData.model_validate(json.loads(msg.data)["data"]))
            pending = msgs[-1].metadata.num_pending
        return found


class ReceiptCounter:
    """Counts the intake's decisions (accepted, rejected) from the receipts it publishes, for
    signals of every channel, NATS or HTTP, from the moment it starts."""

    def __init__(self, nc: Client, count: Callable[[str], None]) -> None:
        self.nc = nc
        self.count = count
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        """Follow new receipts as they are published: a plain subscription, no consumer (a
        JetStream consumer cost more per receipt than the intake's own work on a signal), each
        receipt read as its parts (``raw_deliveries``: nats-py's message and headers are not
        needed to count it)."""
        self._subscription = await subscribe_raw(
            self.nc, f"{RECEIPT_SUBJECT_PREFIX}.>", self._received
        )

    def _received(self, subject: str, reply: str, data: bytes, _: dict[str, str] | None) -> None:
        try:
            status = orjson.loads(data).get("status")
        except (orjson.JSONDecodeError, AttributeError):
            status = None
        self.count(status if status in ("accepted", "rejected") else "unreadable")

    async def stop(self) -> None:
        if self._subscription is not None:
            # The connection may be closing already; the consumer is ephemeral either way.
            with contextlib.suppress(nats.errors.Error):
                await unsubscribe_raw(self.nc, self._subscription)
            self._subscription = None
