"""How the intake judges one delivered message of KS_SIGNALS, before any batch is stored.

The envelope and its references are read first (a refusal's receipt repeats the envelope's id
and source), then the signal or provider's confirmation against the published contract and the
region's rules, the partner against the registry, and the BSN replaced by its pseudonym. A
message that cannot be read, or was delivered too often, is refused with the reason a partner
reads in the receipt; one message never takes its batch with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from nats.aio.msg import Msg

from adapters.nats.delivery import delivery
from adapters.nats.streams import SIGNALS
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.partners import PartnerRegistry, PartnerTokens
from ks_engine.receipts import signal_reference
from ks_engine.signal_contract import (
    ParsedSignal,
    Rejection,
    RejectionCode,
    SignalEvent,
    load_json,
    read_envelope,
    signal_from,
    to_domain,
)
from ks_engine.signal_intake import SignalOutcome
from ks_engine.signal_rules import SignalRules, check_references
from ks_engine.support_start_contract import (
    ParsedSupportStart,
    is_support_started,
    support_started_from,
)

log = structlog.get_logger("ks.intake")

_MUNICIPALITY = re.compile(r"GM[0-9]{4}")  # anything else in a receipt's subject: "unknown"


@dataclass
class Item:
    """One delivered message on its way through a batch."""

    msg: Msg
    reference: str
    municipality: str
    partner: str
    parsed: ParsedSignal | None = None
    support: ParsedSupportStart | None = None  # a provider's confirmation, not a signal
    event: SignalEvent | None = None  # the envelope, once it could be read
    signal: Signal | None = None
    ctx: c.Context | None = None
    rejection: Rejection | None = None
    outcome: SignalOutcome | None = None

    @property
    def seq(self) -> int:
        return delivery(self.msg).stream_seq

    @property
    def deliveries(self) -> int:
        return delivery(self.msg).delivered

    @property
    def envelope(self) -> SignalEvent | None:
        """The message's CloudEvent envelope, once it was read."""
        return self.event


class MessageReader:
    """Judges delivered messages one by one: each becomes an ``Item``, refused or ready."""

    def __init__(
        self,
        *,
        max_deliveries: int,
        rules: SignalRules,
        partners: PartnerRegistry | None,
        pseudonymise: Callable[[str], str],
    ) -> None:
        self.max_deliveries = max_deliveries
        self.rules = rules
        self.partners = partners
        self.partner_token = PartnerTokens(partners)
        self.pseudonymise = pseudonymise

    def inspect(self, msg: Msg) -> Item:
        subject_code = msg.subject.removeprefix("ks.signals.").split(".")[0]
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
        item = Item(
            msg=msg,
            reference="",  # the signal's own, once read; else the message's (below)
            municipality=subject_code if _MUNICIPALITY.fullmatch(subject_code) else "unknown",
            partner="unknown",
        )
        limit = self.max_deliveries
        if item.deliveries > limit:
            item.rejection = Rejection(
                RejectionCode.PROCESSING_FAILED,
                f"delivered {item.deliveries} times without being processed (limit {limit})",
            )
            item.reference = _message_reference(msg, msg_id)
            return item
        try:
            self._read(item)
        except Rejection as rejection:
            item.rejection = rejection
        except Exception as exc:  # one unreadable message must not stop the intake
            log.error("signal.unreadable", stream_seq=item.seq, error=type(exc).__name__)
            item.rejection = Rejection(
                RejectionCode.INVALID_SIGNAL,
                "the signal could not be read; check it against the published signal schema",
            )
        if item.rejection and item.partner == "unknown" and (source := _source_hint(msg.data)):
            item.partner = self.partner_token(source)
        if not item.reference:  # refused before its signal's key was read
            item.reference = _message_reference(msg, msg_id)
        return item

    def _read(self, item: Item) -> None:
        """Parse, check the partner and pseudonymise; raise Rejection for a refused signal."""
        doc, event = read_envelope(item.msg.data)
        check_references(doc)  # first: a refusal's receipt repeats the envelope's id and source
        item.event = event
        if is_support_started(event.type):
            item.support = support_started_from(doc, event, item.msg.subject, rules=self.rules)
        else:
            item.parsed = signal_from(doc, event, item.msg.subject, rules=self.rules)
        item.partner = self.partner_token(event.source)
        item.reference = signal_reference(event.signal_key)
        if self.partners is not None and self.partners.by_source(event.source) is None:
            raise Rejection(
                RejectionCode.UNKNOWN_PARTNER,
                f"source '{event.source[:100]}' is not a registered partner of this "
                "Knooppunt; ask the coordinator to register your organisation",
            )
        if item.parsed is None:
            return  # a confirmation is applied as it is: it names its case, no BSN
        signal, actor = to_domain(item.parsed, self.pseudonymise)
        item.signal = signal
        item.ctx = c.Context(actor=actor, causation_id=event.signal_key)


def _message_reference(msg: Msg, msg_id: str) -> str:
    """The reference of a message whose signal's key is not known: from its NATS message id,
    else its place in the stream."""
    return signal_reference(msg_id or f"{SIGNALS}:{delivery(msg).stream_seq}")


def _source_hint(raw: bytes) -> str | None:
    """The ``source`` of a message that failed validation, when it has a usable one."""
    try:
        doc = load_json(raw)
    except Rejection:
        return None
    source = doc.get("source") if isinstance(doc, dict) else None
    if not isinstance(source, str) or not 0 < len(source) <= 300:
        return None
    return source
