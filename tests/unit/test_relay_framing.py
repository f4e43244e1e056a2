"""The relay's own framing and decoding against the libraries': the HPUB frames of a window are
byte for byte what nats-py's ``Client.publish`` buffers, and orjson decoding gives what
eventsourcing's JSONTranscoder gives, for any content."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st
from nats.aio.client import Client

from adapters.nats.ordered_publish import framable, frame
from adapters.nats.relay_decoding import OrjsonDecodingTranscoder
from ks_engine.transcoding import DateAsISO

token = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,30}", fullmatch=True)


class Captured(Client):
    """A client that keeps what it would write."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
        self.written.append(cmd)


@given(
    subject=token,
    reply=st.one_of(st.just(""), token),  # none: no acknowledgement asked for
    headers=st.dictionaries(header_names, token, min_size=1, max_size=4),
    payload=st.binary(max_size=300),
)
def test_a_frame_is_what_nats_py_would_write(
    subject: str, reply: str, headers: dict[str, str], payload: bytes
) -> None:
    client = Captured()
    asyncio.run(client._send_publish(subject, reply, payload, len(payload), headers))
    assert client.written == [frame(subject, reply, headers, payload)]


def test_only_checked_parts_are_framed() -> None:
    client = Client()
    window = [("ks.events.GM0928.Signalled", "_INBOX.x.1", {"Nats-Msg-Id": "a"}, b"{}")]
    assert not framable(client, window)  # not connected: nats-py buffers or raises
    client._status = Client.CONNECTED
    assert framable(client, window)
    for subject, reply, headers in [
        ("ks.events.GM 0928.Signalled", "_INBOX.x.1", {"Nats-Msg-Id": "a"}),
        ("ks.events.GM0928.Signalled\r\nPUB x 0", "_INBOX.x.1", {"Nats-Msg-Id": "a"}),
        ("ks.events.GM0928.Signalled", "_INBOX.x.1", {"Nats-Msg-Id": "a\r\nb"}),
        ("ks.events.GM0928.Signalled", "_INBOX.x.1", {"Nats Msg": "a"}),
        ("", "_INBOX.x.1", {"Nats-Msg-Id": "a"}),
        ("ks.events.GM0928.Signalled", "_INBOX x", {"Nats-Msg-Id": "a"}),
    ]:
        assert not framable(client, [*window, (subject, reply, headers, b"{}")])
    # A message without a reply (no acknowledgement asked for) is framed as nats-py frames it
    assert framable(client, [*window, ("ks.events.GM0928.Signalled", "", {"A": "b"}, b"{}")])


def framable_part_by_part(window: list[tuple[str, str, dict[str, str], bytes]]) -> bool:
    """What ``framable`` decides for a connected client, checked one part at a time."""
    safe = re.compile(r"[!-~]+").fullmatch
    key = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
    return all(
        safe(subject)
        and (reply == "" or safe(reply))
        and all(key(k) and safe(v) for k, v in headers.items())
        for subject, reply, headers, _ in window
    )


# Texts mostly of safe characters, sometimes empty, with spaces, line breaks or non-ASCII.
parts = st.text(
    st.one_of(
        st.characters(min_codepoint=33, max_codepoint=126),
        st.sampled_from([" ", "\r", "\n", "\t", "\x00", "é", "\x7f"]),
    ),
    max_size=12,
)


@given(
    window=st.lists(
        st.tuples(parts, parts, st.dictionaries(parts, parts, max_size=3), st.just(b"{}")),
        min_size=1,
        max_size=5,
    )
)
def test_a_window_is_framable_exactly_when_each_of_its_parts_is(
    window: list[tuple[str, str, dict[str, str], bytes]],
) -> None:
    client = Client()
    client._status = Client.CONNECTED
    assert framable(client, window) == framable_part_by_part(window)


def transcoders() -> tuple[JSONTranscoder, OrjsonDecodingTranscoder]:
    standard = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        standard.register(transcoding)
    return standard, OrjsonDecodingTranscoder.like(standard)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.uuids(),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), offsets)),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(tree=st.dictionaries(st.text(max_size=10), trees, max_size=6))
def test_orjson_decoding_gives_what_the_standard_transcoder_gives(tree: dict[str, Any]) -> None:
    standard, fast = transcoders()
    encoded = standard.encode(tree)
    decoded = fast.decode(encoded)
    assert decoded == standard.decode(encoded)
    assert repr(decoded) == repr(standard.decode(encoded))  # the same types, not only equal


def test_what_orjson_cannot_read_is_read_by_the_standard_transcoder() -> None:
    standard, fast = transcoders()
    for value in [{"n": 2**80}, {"x": float("nan")}, {"d": Decimal("1.5"), "u": UUID(int=7)}]:
        encoded = standard.encode(value)
        assert repr(fast.decode(encoded)) == repr(standard.decode(encoded))
    assert fast.decode(standard.encode({"on": date(2026, 11, 2)})) == {"on": date(2026, 11, 2)}
