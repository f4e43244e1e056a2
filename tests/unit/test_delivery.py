"""A delivery's place, count and pending, read from its reply subject exactly as nats-py's
``Msg.metadata`` reads them, for either form of the subject; what nats-py refuses is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from adapters.nats.delivery import Delivery, delivery

names = st.text(st.characters(codec="ascii", exclude_characters=". *>"), min_size=1, max_size=12)
numbers = st.integers(min_value=0, max_value=2**63 - 1).map(str)
times = st.integers(min_value=0, max_value=4_000_000_000_000_000_000).map(str)


def message(reply: str) -> Msg:
    return Msg(_client=None, subject="_INBOX.x", reply=reply)  # type: ignore[arg-type]


def as_nats_reads(reply: str) -> Delivery:
    meta = message(reply).metadata
    return Delivery(meta.sequence.stream, meta.num_delivered, meta.num_pending)


@given(names, names, numbers, numbers, numbers, times, numbers)
def test_the_short_form(
    stream: str, consumer: str, delivered: str, sseq: str, cseq: str, at: str, pending: str
) -> None:
    reply = f"$JS.ACK.{stream}.{consumer}.{delivered}.{sseq}.{cseq}.{at}.{pending}"
    assert delivery(message(reply)) == as_nats_reads(reply)
    assert delivery(message(reply)) == (int(sseq), int(delivered), int(pending))


@given(
    names,
    names,
    names,
    names,
    numbers,
    numbers,
    numbers,
    times,
    numbers,
    st.lists(names, max_size=2),
)
def test_the_form_with_a_domain_and_an_account(
    domain: str,
    account: str,
    stream: str,
    consumer: str,
    delivered: str,
    sseq: str,
    cseq: str,
    at: str,
    pending: str,
    more: list[str],
) -> None:
    reply = ".".join(
        ["$JS", "ACK", domain, account, stream, consumer, delivered, sseq, cseq, at, pending, *more]
    )
    assert delivery(message(reply)) == as_nats_reads(reply)
    assert delivery(message(reply)) == (int(sseq), int(delivered), int(pending))


@pytest.mark.parametrize("prefix", [["$JS", "ACK"], ["$JS"], ["JS", "ACK"], ["$JS", "NAK"], []])
@pytest.mark.parametrize("length", range(14))
def test_a_subject_of_another_length_or_prefix_is_refused_as_nats_py_refuses_it(
    prefix: list[str], length: int
) -> None:
    reply = ".".join(prefix + [str(n + 1) for n in range(length)])
    try:
        expected = as_nats_reads(reply)
    except NotJSMessageError:
        with pytest.raises(NotJSMessageError):
            delivery(message(reply))
    else:
        assert delivery(message(reply)) == expected


def test_a_message_without_a_reply_is_no_delivery() -> None:
    with pytest.raises(NotJSMessageError):
        delivery(Msg(_client=None, subject="s"))  # type: ignore[arg-type]
