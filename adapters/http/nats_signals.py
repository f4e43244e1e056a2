"""The signal gateway over JetStream: HTTP partners' signals enter the NATS partners' pipeline."""

from __future__ import annotations

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from adapters.http.ports import SignalGatewayError
from ks_engine.receipts import RECEIPT_SUBJECT_PREFIX, Receipt


class NatsSignalGateway:
    """Publishes to ``ks.signals.<municipality>`` and reads receipts from their stream."""

    def __init__(
        self, js: JetStreamContext, *, receipts_stream: str = "KS_RECEIPTS", timeout: float = 5.0
    ) -> None:
        self.js = js
        self.receipts_stream = receipts_stream
        self.timeout = timeout

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
