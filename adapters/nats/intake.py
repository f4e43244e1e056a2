"""The front door: partner signals from KS_SIGNALS into the event store, exactly once in effect.

Providers' confirmations that support started (``nl.kansrijkestart.support-started.v1``) come
the same way and are judged the same way; each is applied alone, with its idempotency record.

A durable pull consumer fetches a batch; every message is validated and its BSN replaced by
the pseudonym; the valid ones are stored in one event-store transaction (group commit) and
acked only after it. Invalid ones are copied, sealed, to the dead-letter stream with their
reason (adapters/nats/dead_letters.py) and terminated. Transient failures are nak'ed with a
delay, and dead-lettered after a bounded number of deliveries. Every processed message gets a
receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import nats.errors
import structlog
from eventsourcing.persistence import PersistenceError
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.nats.acked_publish import AckedPublisher
from adapters.nats.confirmations import confirm_all
from adapters.nats.dead_letter_box import DeadLetterBox
from adapters.nats.dead_letters import DLQ_SUBJECT as DLQ_SUBJECT  # re-exported
from adapters.nats.dead_letters import Original, Rejected, dead_letter_seal
from adapters.nats.fetching import PullConsumer, pull_consumer
from adapters.nats.intake_reading import Item, MessageReader
from adapters.nats.stopping import raise_if_cancelled
from adapters.nats.streams import SIGNALS
from adapters.persistence.store_turns import StoreTurns
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.log import redact_text
from ks_engine.partners import PartnerRegistry
from ks_engine.receipts import Receipt, receipt_subject
from ks_engine.settings import Settings
from ks_engine.signal_contract import Rejection, RejectionCode
from ks_engine.signal_intake import SignalOutcome
from ks_engine.signal_rules import SignalRules

RECEIPT_ACK_SECONDS = 5.0  # a receipt not confirmed by then is published again
log = structlog.get_logger("ks.intake")

CONSUMER = "ks-intake"


class IntakeHost(Protocol):
    """What the intake needs of the engine (the composition root passes it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def referrals(self) -> Referrals: ...

    def signal_rules(self) -> SignalRules: ...

    def pseudonymise(self, bsn: str) -> str: ...

    def store_turns(self) -> StoreTurns: ...


class Intake:
    """Processes partner signals from KS_SIGNALS."""

    def __init__(
        self,
        engine: IntakeHost,
        js: JetStreamContext,
        *,
        partners: PartnerRegistry | None = None,
        after_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.js = js
        self.settings = engine.settings
        self.dead_letters = DeadLetterBox(js, dead_letter_seal(self.settings))
        self.reader = MessageReader(
            max_deliveries=self.settings.intake_max_deliveries,
            rules=engine.signal_rules(),
            partners=partners,
            pseudonymise=engine.pseudonymise,
        )
        self._after_commit = after_commit  # fault injection point for crash tests
        self.receipts = AckedPublisher(js._nc)  # the connection ``js`` was made from
        self.turns = engine.store_turns()  # with the other intakes on the store

    async def subscribe(self) -> PullConsumer:
        """Bind to (or create) the durable pull consumer with explicit acks."""
        return await pull_consumer(
            self.js,
            SIGNALS,
            CONSUMER,
            subject="ks.signals.>",
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.settings.intake_ack_wait_seconds,
                max_ack_pending=self.settings.intake_batch_size * 4,
            ),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle batches until ``stop`` is set."""
        sub = await self.subscribe()
        log.info("intake.started", consumer=CONSUMER)
        try:
            while not stop.is_set():
                raise_if_cancelled()  # the NATS client swallows a cancellation in places
                try:
                    msgs = await sub.fetch(self.settings.intake_batch_size, wait=0.5)
                except nats.errors.Error as exc:
                    # No server, or the consumer's leader is being elected after a node was
                    # lost: wait; the consumer keeps every signal not acknowledged.
                    log.warning("intake.nats_unavailable", error=type(exc).__name__)
                    await asyncio.sleep(1)
                    continue
                if not msgs:
                    continue
                try:
                    await self.handle(msgs)
                except nats.errors.Error as exc:
                    # Receipts or acks failed midway: the signals not acknowledged come back
                    # after the ack wait and are then recognised as duplicates of what was stored.
                    log.warning(
                        "intake.batch_interrupted", error=type(exc).__name__, size=len(msgs)
                    )
        finally:
            # Also after an error: a restarted intake subscribes anew.
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
            with contextlib.suppress(nats.errors.Error):
                await self.receipts.close()
            self.turns.close()
        log.info("intake.stopped")

    async def handle(self, msgs: list[Msg]) -> None:
        """Validate, store in one transaction, then receipt and ack / dead-letter and term.

        Each message is judged on its own: one that cannot be read or stored is dead-lettered
        alone, and never takes the valid signals of its batch with it.
        """
        items = [self.reader.inspect(m) for m in msgs]
        rejected = [i for i in items if i.rejection is not None]
        valid = [i for i in items if i.rejection is None and i.support is None]
        stored = await self._store(valid) if valid else []
        stored += await confirm_all(self, [i for i in items if i.rejection is None and i.support])
        if stored and self._after_commit is not None:
            await self._after_commit()
        rejected += [i for i in stored if i.rejection is not None]
        await self._accept([i for i in stored if i.rejection is None])
        for item in rejected:
            await self._dead_letter(item)

    # -- steps ----------------------------------------------------------------------------
    async def _store(self, valid: list[Item]) -> list[Item]:
        """Group commit; the items whose storing was decided (the others were nak'ed, or
        dead-lettered when out of deliveries). A batch that fails for another reason than the
        store being unavailable is stored again signal by signal, so that only the signal that
        fails on its own is refused."""
        batch = [(i.signal, i.ctx) for i in valid if i.signal and i.ctx]
        try:
            outcomes = await asyncio.to_thread(self._receive_in_turn, batch)
        except PersistenceError as exc:
            # The database's own words, for the operator: ids and SQL states, no personal data.
            log.warning("signal.store_failed", size=len(valid), error=str(exc)[:500])
            await self.retry_later(valid, f"the event store is unavailable ({type(exc).__name__})")
            return []
        except Exception as exc:  # isolate the signal that cannot be stored
            log.error("signal.not_stored", size=len(valid), error=type(exc).__name__)
            if len(valid) > 1:
                return [done for item in valid for done in await self._store([item])]
            valid[0].rejection = Rejection(
                RejectionCode.PROCESSING_FAILED,
                "the signal could not be stored; it is kept with the dead letters for the "
                "Knooppunt's administrator",
            )
            return valid
        for item, outcome in zip(valid, outcomes, strict=True):
            item.outcome = outcome
            if outcome.refusal is not None:
                item.rejection = Rejection(RejectionCode.REFUSED_BY_CASE, str(outcome.refusal))
        return valid

    def _receive_in_turn(self, batch: list[tuple[Signal, c.Context]]) -> list[SignalOutcome]:
        with self.turns.turn():
            return self.engine.referrals.receive_signals(batch)

    async def retry_later(self, items: list[Item], reason: str) -> None:
        limit = self.settings.intake_max_deliveries
        for item in items:
            if item.deliveries >= limit:
                item.rejection = Rejection(
                    RejectionCode.PROCESSING_FAILED,
                    f"{reason}; gave up after {item.deliveries} deliveries",
                )
                await self._dead_letter(item)
            else:
                log.warning(
                    "signal.retry", stream_seq=item.seq, deliveries=item.deliveries, reason=reason
                )
                await item.msg.nak(delay=self.settings.intake_retry_delay_seconds)

    async def _accept(self, items: list[Item]) -> None:
        """Receipts for the stored signals, all in flight at once; each message is acked once
        its receipt is kept. A receipt that could not be kept leaves its signal to be delivered
        again: the store recognises it, and the same receipt is published once more."""
        clock = self.engine.referrals.clock
        pending = [
            await self._publish_receipt_async(item, self._acceptance(item, clock()))
            for item in items
        ]
        if pending:
            await asyncio.wait(pending, timeout=RECEIPT_ACK_SECONDS)
        for item, future in zip(items, pending, strict=True):
            if not future.done() or future.cancelled() or future.exception() is not None:
                future.cancel()
                log.warning("receipt.not_kept", stream_seq=item.seq)
                await item.msg.nak(delay=self.settings.intake_retry_delay_seconds)
                continue
            await item.msg.ack()
            outcome = item.outcome
            assert outcome is not None
            log.info(
                "signal.accepted",
                subject=item.msg.subject,
                stream_seq=item.seq,
                case_id=str(outcome.case_id),
                matched_existing=outcome.matched_existing,
                duplicate=outcome.duplicate,
            )

    @staticmethod
    def _acceptance(item: Item, at: datetime) -> Receipt:
        outcome = item.outcome
        envelope = item.envelope
        assert envelope is not None
        assert outcome is not None
        return Receipt(
            reference=item.reference,
            status="accepted",
            source=envelope.source,
            signal_id=envelope.id,
            case_id=outcome.case_id,
            matched_existing=outcome.matched_existing,
            duplicate=outcome.duplicate,
            processed_at=at,
        )

    async def _dead_letter(self, item: Item) -> None:
        """Copy to the dead-letter stream with the reason, receipt, then terminate."""
        assert item.rejection is not None
        code, reason = item.rejection.code.value, redact_text(item.rejection.reason)[:1000]
        await self.dead_letters.post(
            Rejected(
                stream=SIGNALS,
                sequence=item.seq,
                code=code,
                reason=reason,
                deliveries=item.deliveries,
                reference=item.reference,
                partner=item.partner,
                original_subject=item.msg.subject,
            ),
            Original(item.msg.subject, dict(item.msg.headers or {}), item.msg.data),
        )
        # A reference refused for holding a BSN is not echoed in the receipt.
        envelope = item.envelope if code != RejectionCode.BSN_AS_REFERENCE else None
        await self._publish_receipt(
            item,
            Receipt(
                reference=item.reference,
                status="rejected",
                source=envelope.source if envelope else None,
                signal_id=envelope.id if envelope else None,
                error_code=code,
                reason=reason,
                processed_at=self.engine.referrals.clock(),
            ),
        )
        await item.msg.term()
        log.info(
            "signal.rejected",
            subject=item.msg.subject,
            stream_seq=item.seq,
            error_code=code,
            reason=reason,
        )

    async def _publish_receipt(self, item: Item, receipt: Receipt) -> None:
        kept = await self._publish_receipt_async(item, receipt)
        try:
            await asyncio.wait_for(kept, RECEIPT_ACK_SECONDS)
        except TimeoutError:
            raise nats.errors.TimeoutError from None

    async def _publish_receipt_async(self, item: Item, receipt: Receipt) -> asyncio.Future[Any]:
        """Publish a receipt to KS_RECEIPTS; the future resolves when the stream kept it."""
        return await self.receipts.publish(
            receipt_subject(item.municipality, item.partner, item.reference),
            receipt.model_dump_json().encode(),
            headers={"Nats-Msg-Id": f"receipt:{SIGNALS}:{item.seq}"},
        )
