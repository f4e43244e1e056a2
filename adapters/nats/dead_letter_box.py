"""KS_DLQ as a box of sealed letters: post one, list them, fetch one, replay one.

A replay publishes the original message again on its original subject with its original
headers, Nats-Msg-Id included, so the intake handles it as the partner's own message: a signal
that already took effect is recognised by its ``source#id`` and applied no second time, and a
replay published twice within KS_SIGNALS' duplicate window is stored once. Each replay leaves
a marker in KS_DLQ (``ks.dlq.replays``), so the list shows which letters were replayed.
"""

from __future__ import annotations

from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from adapters.nats.dead_letters import (
    DLQ_SUBJECT,
    DeadLetter,
    DeadLetterError,
    DeadLetterSeal,
    Original,
    Rejected,
)
from adapters.nats.streams import DLQ, SIGNALS

REPLAYS_SUBJECT = "ks.dlq.replays"
_LIST_BATCH = 256


class DeadLetterNotFoundError(DeadLetterError):
    """No dead letter with this sequence in KS_DLQ (never, or aged out)."""


class ReplayRefusedError(DeadLetterError):
    """KS_SIGNALS did not take the replayed message (still inside its duplicate window)."""


class DeadLetterBox:
    """The engine's view of KS_DLQ."""

    def __init__(self, js: JetStreamContext, seal: DeadLetterSeal) -> None:
        self.js = js
        self.seal = seal

    async def post(self, rejected: Rejected, original: Original) -> None:
        """Publish the sealed original with its clear metadata (once: the id is the original's
        stream sequence, so a retry after a lost acknowledgement is recognised)."""
        await self.js.publish(
            DLQ_SUBJECT,
            self.seal.seal(rejected.letter_id, original),
            headers=rejected.headers(),
        )

    async def letters(self) -> tuple[list[DeadLetter], dict[int, datetime | None]]:
        """Every letter's metadata (headers only, no body fetched) and when each replayed
        letter was replayed last."""
        try:
            info = await self.js.stream_info(DLQ)
        except NotFoundError:  # no intake ever ran against this server
            return [], {}
        if not info.state.messages:
            return [], {}
        sub = await self.js.pull_subscribe(
            "ks.dlq.>",
            durable=None,
            stream=DLQ,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.ALL,
                headers_only=True,
                inactive_threshold=30,
            ),
        )
        found: list[DeadLetter] = []
        replayed: dict[int, datetime | None] = {}
        try:
            pending = 1
            while pending:
                msgs = await sub.fetch(_LIST_BATCH, timeout=5)
                for msg in msgs:
                    meta = msg.metadata
                    headers = dict(msg.headers or {})
                    if msg.subject == REPLAYS_SUBJECT:
                        replayed[int(headers.get("Ks-Replay-Of", "0"))] = meta.timestamp
                    elif msg.subject == DLQ_SUBJECT:
                        found.append(DeadLetter(int(meta.sequence.stream), meta.timestamp, headers))
                pending = int(msgs[-1].metadata.num_pending) if msgs else 0
        finally:
            await sub.unsubscribe()
        return found, replayed

    async def letter(self, seq: int) -> DeadLetter:
        """One letter with its sealed body."""
        try:
            raw = await self.js.get_msg(DLQ, seq)
        except NotFoundError:
            raise DeadLetterNotFoundError(
                f"KS_DLQ holds no message {seq}: it never existed or aged out (KS_DLQ_MAX_AGE_DAYS)"
            ) from None
        if raw.subject != DLQ_SUBJECT:
            raise DeadLetterNotFoundError(f"KS_DLQ message {seq} is not a dead letter")
        return DeadLetter(seq, raw.time, dict(raw.headers or {}), raw.data or b"")

    async def replay(self, seq: int) -> int:
        """Publish letter ``seq``'s original on its subject; the new KS_SIGNALS sequence."""
        original = (await self.letter(seq)).original(self.seal)
        headers = {
            name: value
            for name, value in original.headers.items()
            if name == "Nats-Msg-Id" or not name.startswith("Nats-")
        }
        headers["Ks-Replay-Of"] = str(seq)
        ack = await self.js.publish(
            original.subject, original.body, headers=headers, stream=SIGNALS
        )
        if ack.duplicate:
            raise ReplayRefusedError(
                f"KS_SIGNALS still remembers this message's Nats-Msg-Id (it was sent less than "
                f"its duplicate window ago) and did not take it again; replay dead letter {seq} "
                "after KS_SIGNALS_DUPLICATE_WINDOW_SECONDS"
            )
        await self.js.publish(
            REPLAYS_SUBJECT,
            b"",
            headers={"Ks-Replay-Of": str(seq), "Ks-Replayed-As": f"{SIGNALS}:{ack.seq}"},
        )
        return int(ack.seq)
