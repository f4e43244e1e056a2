"""Many JetStream publishes in flight at once, stored in the order they were sent.

Each message after the first names its predecessor in ``Nats-Expected-Last-Msg-Id``: the stream
stores it only directly after that predecessor, so when one message of the window is not
stored (no stream leader for a moment, a timeout) none after it is either, and publishing
again from the first unacknowledged one keeps the stream in order. ``Nats-Msg-Id`` makes the
messages stored already count as duplicates (the stream checks duplicates first), so a
window published again stores nothing twice.

nats-py's own ``publish_async`` cannot be used: an error reply raises inside its callback and
the publish's future never completes. While connected, the window's messages are handed to the
client as the very ``HPUB`` frames ``Client.publish`` would buffer (see ``send_window``): its
checks and framing of every message in Python took a third of the relay's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import nats.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

WRONG_LAST_MSG_ID = 10070  # JetStream's error code: the stream's last message is another one


class Outgoing(NamedTuple):
    """One message for the stream (a tuple: the relay's windows cross a process boundary)."""

    subject: str
    payload: bytes
    msg_id: str
    position: int


class PublishFailed(nats.errors.Error):
    """A message of the window was not acknowledged as stored."""

    def __init__(self, detail: str, *, interleaved: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        # Another publisher's message came between two of ours (not a failure of the server).
        self.interleaved = interleaved

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class WindowResult:
    """How many messages from the window's start the stream acknowledged (``duplicates`` of
    them it held already), and the first failure after them (None when all were)."""

    acknowledged: int
    duplicates: int
    failure: PublishFailed | None


class OrderedPublisher:
    """Publishes windows of messages to one stream over one connection."""

    def __init__(self, nc: Client, stream: str, *, timeout: float = 5.0) -> None:
        self.nc = nc
        self.stream = stream
        self.timeout = timeout
        self._sub: Subscription | None = None
        self._prefix = ""
        self._next_token = 0
        self._replies: _Replies | None = None  # the window in flight

    async def _ensure_inbox(self) -> None:
        if self._sub is None:
            self._prefix = self.nc.new_inbox()
            self._sub = await self.nc.subscribe(self._prefix + ".*", cb=self._on_reply)

    async def _on_reply(self, msg: Msg) -> None:
        if self._replies is not None:
            self._replies.take(msg)

    async def close(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            # When the connection is gone, its subscription went with it.
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def publish(self, messages: Sequence[Outgoing]) -> WindowResult:
        """Publish ``messages`` in order, all in flight together; the acknowledged prefix."""
        if not messages:
            return WindowResult(0, 0, None)
        await self._ensure_inbox()
        first = self._next_token
        self._next_token += len(messages)
        replies = self._replies = _Replies(first, len(messages))
        window: list[Publish] = []
        previous: str | None = None
        for token, out in enumerate(messages, first):
            headers = {"Nats-Msg-Id": out.msg_id, "Nats-Expected-Stream": self.stream}
            if previous is not None:
                headers["Nats-Expected-Last-Msg-Id"] = previous
            window.append((out.subject, f"{self._prefix}.{token}", headers, out.payload))
            previous = out.msg_id
        try:
            await send_window(self.nc, window)
            await asyncio.wait([replies.all_in], timeout=self.timeout)
        except nats.errors.Error as e:
            return _outcome(replies.got, PublishFailed(str(e) or type(e).__name__))
        finally:
            replies.all_in.cancel()  # no-op when all came
            self._replies = None
        return _outcome(replies.got, None)


class _Replies:
    """The acknowledgements of one window, by the token its reply subjects end in."""

    def __init__(self, first: int, count: int) -> None:
        self.first = first
        self.got: list[Msg | None] = [None] * count
        self.missing = count
        self.all_in: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def take(self, msg: Msg) -> None:
        try:
            index = int(msg.subject.rpartition(".")[2]) - self.first
        except ValueError:
            return
        if 0 <= index < len(self.got) and self.got[index] is None:  # late or foreign: ignored
            self.got[index] = msg
            self.missing -= 1
            if self.missing == 0 and not self.all_in.done():
                self.all_in.set_result(None)


def _outcome(replies: Sequence[Msg | None], error: PublishFailed | None) -> WindowResult:
    duplicates = 0
    for index, reply in enumerate(replies):
        if reply is None:
            return WindowResult(
                index, duplicates, error or PublishFailed("no acknowledgement in time")
            )
        try:
            duplicates += read_ack(reply)
        except PublishFailed as failure:
            return WindowResult(index, duplicates, failure)
    return WindowResult(len(replies), duplicates, None)


Publish = tuple[str, str, dict[str, str], bytes]  # subject, reply, headers, payload
_SAFE = re.compile(r"[!-~]+")  # printable ASCII without spaces: no framing of its own
_SAFE_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # nats-py's header names


def frame(subject: str, reply: str, headers: dict[str, str], payload: bytes) -> bytes:
    """The ``HPUB`` frame nats-py's ``Client.publish`` writes for these (checked) parts."""
    hdr = b"NATS/1.0\r\n"
    for key, value in headers.items():
        hdr += f"{key}: {value}\r\n".encode()
    hdr += b"\r\n"
    head = f"HPUB {subject} {reply} {len(hdr)} {len(hdr) + len(payload)}\r\n".encode()
    return head + hdr + payload + b"\r\n"


def framable(nc: Client, window: Sequence[Publish]) -> bool:
    """Whether ``window`` can be framed here as ``Client.publish`` would: connected, and every
    subject, reply and header of a form its checks would pass unchanged."""
    if not nc.is_connected or nc.is_draining_pubs:
        return False
    limit = nc.max_payload
    texts: list[str] = []
    keys: set[str] = set()
    for subject, reply, headers, payload in window:
        if len(payload) > limit:
            return False
        texts.append(subject)
        texts.append(reply)
        texts.extend(headers.values())
        keys.update(headers)
    # Every text not empty and of safe characters: checked at once, joined by a safe one.
    return (
        all(texts)
        and _SAFE.fullmatch("!".join(texts)) is not None
        and all(_SAFE_KEY.fullmatch(key) for key in keys)
    )


async def send_window(nc: Client, window: Sequence[Publish]) -> None:
    """Publish ``window`` in order: while connected, its frames go straight to the client's
    buffer (what ``Client.publish`` would put there after its checks), flushed once; else
    through ``Client.publish`` (which buffers while reconnecting or raises)."""
    if not framable(nc, window):
        for subject, reply, headers, payload in window:
            await nc.publish(subject, payload, reply=reply, headers=headers)
        return
    for publish in window:
        nc.stats["out_msgs"] += 1
        nc.stats["out_bytes"] += len(publish[3])
        await nc._send_command(frame(*publish))
    if nc._flush_queue is not None and nc._flush_queue.empty():
        await nc._flush_pending()


def read_ack(msg: Msg) -> bool:
    """Whether ``msg`` acknowledges a duplicate (True) or a newly stored message (False);
    PublishFailed if the stream did not store it."""
    status = (msg.headers or {}).get("Status")
    if status:  # 503: no responders, no stream leader to take it
        description = (msg.headers or {}).get("Description", "").split("\n")[0]
        raise PublishFailed(f"status {status} {description}".strip())
    try:
        answer = orjson.loads(msg.data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PublishFailed("unreadable acknowledgement")
    error = answer.get("error")
    if isinstance(error, dict):
        detail = f"{error.get('code')} {error.get('description', '')}".strip()
        raise PublishFailed(detail, interleaved=error.get("err_code") == WRONG_LAST_MSG_ID)
    if "seq" not in answer:
        raise PublishFailed("unreadable acknowledgement")
    return answer.get("duplicate") is True
