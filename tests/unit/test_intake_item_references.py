"""Every message the intake judges gets the reference its receipt and dead letter carry: a
signal's own (from its key) once read, else the message's (its NATS message id, or its place
in the stream); and the partner token of its source, made once per source."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.nats.intake_reading import MessageReader
from adapters.nats.streams import SIGNALS
from ks_engine.clock import AMSTERDAM
from ks_engine.partners import Partner, PartnerRegistry, PartnerTokens, partner_token
from ks_engine.receipts import signal_reference
from ks_engine.signal_contract import example_signal
from ks_engine.signal_rules import SignalRules
from tests.strategies import valid_bsns

RULES = SignalRules.serving(["GM0928"], lambda: datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM))
REGISTRY = PartnerRegistry(
    partners=(Partner(id="vk-parkstad", source="https://verloskunde-parkstad.nl", name="VK"),)
)


@dataclass
class Delivered:
    """What the reader reads of a delivered NATS message (a stand-in: unit test)."""

    data: bytes
    headers: dict[str, str] | None
    reply: str  # where JetStream says it stands: its place in the stream, its deliveries
    subject: str = "ks.signals.GM0928"
    extra: dict[str, Any] = field(default_factory=dict)


def reader(max_deliveries: int = 5) -> MessageReader:
    return MessageReader(
        max_deliveries=max_deliveries,
        rules=RULES,
        partners=REGISTRY,
        pseudonymise=lambda bsn: hashlib.sha256(bsn.encode()).hexdigest(),
    )


def delivered(data: bytes, msg_id: str | None, seq: int, deliveries: int = 1) -> Any:
    headers = {"Nats-Msg-Id": msg_id} if msg_id is not None else None
    return Delivered(data, headers, f"$JS.ACK.{SIGNALS}.ks-intake.{deliveries}.{seq}.{seq}.0.0")


@given(st.lists(st.text(max_size=40), max_size=30), st.integers(1, 4))
def test_a_partner_token_is_made_once_per_source_and_is_the_same(
    sources: list[str], kept: int
) -> None:
    tokens = PartnerTokens(REGISTRY, kept=kept)
    for source in [*sources, *sources, "https://verloskunde-parkstad.nl"]:
        assert tokens(source) == partner_token(source, REGISTRY)
        assert len(tokens._tokens) <= kept


def test_a_read_signal_has_its_own_reference_and_its_partner() -> None:
    signal = example_signal(valid_bsns(1)[0], event_id="2026-000777")
    item = reader().inspect(delivered(json.dumps(signal).encode(), "any-id", 12))
    assert item.rejection is None
    assert item.reference == signal_reference("https://verloskunde-parkstad.nl#2026-000777")
    assert item.partner == "vk-parkstad"


@given(st.binary(max_size=60), st.one_of(st.none(), st.text(min_size=1, max_size=20)))
def test_an_unreadable_message_has_the_reference_of_the_message(
    data: bytes, msg_id: str | None
) -> None:
    item = reader().inspect(delivered(data, msg_id, 41))
    assert item.rejection is not None
    assert item.reference == signal_reference(msg_id or f"{SIGNALS}:41")


def test_a_message_delivered_too_often_has_the_reference_of_the_message() -> None:
    signal = example_signal(valid_bsns(1)[0])
    item = reader(max_deliveries=3).inspect(delivered(json.dumps(signal).encode(), "m-9", 9, 4))
    assert item.rejection is not None
    assert item.reference == signal_reference("m-9")
