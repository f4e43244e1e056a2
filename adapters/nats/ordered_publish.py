"""Many JetStream publishes in flight at once, stored in the order they were sent.

Each message after the first names its predecessor in ``Nats-Expected-Last-Msg-Id``: the stream
stores it only directly after that predecessor, so when one message of the window is not
stored (no stream leader for a moment, a timeout) none after it is either, and publishing
again from the first one not stored keeps the stream in order. ``Nats-Msg-Id`` makes the
messages stored already count as duplicates (the stream checks duplicates first), so a
window published again stores nothing twice.

Only the window's last message asks for an acknowledgement. By the chain above, the stream
holds that one only if it holds every message before it, so its acknowledgement stands for
the whole window; the stream answers a connection's messages in the order they came, so it
comes after the others were taken or refused. When it does not come, or refuses, the stream's
last message on the publisher's subjects tells how far the window got: that message and every
one before it are stored, none after it. An answer that is not the stream's (no responders,
nothing in time) may come while earlier messages are still on their way in: the count is then
at most what the stream will hold, never more, and publishing again from there stores the
rest once. Acknowledging each message cost the relay about half its own time and the server
a quarter of its.

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
    """The window was not stored whole."""

    def __init__(self, detail: str, *, resumable: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        # Part of the window was stored and the rest refused as out of order (another
        # publisher's message came in between, or one of ours was lost): publishing on from
        # where it stopped may succeed at once.
        self.resumable = resumable

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class WindowResult:
    """How many messages from the window's start the stream holds (``acknowledged``), whether
    it held them all before (``held_already``: the window was published again), and the
    failure that stopped the rest (None when all were stored)."""

    acknowledged: int
    held_already: bool
    failure: PublishFailed | None


class OrderedPublisher:
    """Publishes windows of messages to one stream over one connection; ``subjects`` is the
    filter of this publisher's subjects in the stream (other publishers' are not its own)."""

    def __init__(self, nc: Client, stream: str, subjects: str, *, timeout: float = 5.0) -> None:
        self.nc = nc
        self.stream = stream
        self.subjects = subjects
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
        """Publish ``messages`` in order, all in flight together; how far the stream holds them."""
        if not messages:
            return WindowResult(0, False, None)
        await self._ensure_inbox()
        token = self._next_token
        self._next_token += 1
        replies = self._replies = _Replies(token)
        window: list[Publish] = []
        previous: str | None = None
        last = len(messages) - 1
        for index, out in enumerate(messages):
            headers = {"Nats-Msg-Id": out.msg_id, "Nats-Expected-Stream": self.stream}
            if previous is not None:
                headers["Nats-Expected-Last-Msg-Id"] = previous
            reply = f"{self._prefix}.{token}" if index == last else ""
            window.append((out.subject, reply, headers, out.payload))
            previous = out.msg_id
        failure: PublishFailed | None = None
        try:
            await send_window(self.nc, window)
            await asyncio.wait([replies.came], timeout=self.timeout)
        except nats.errors.Error as e:
            failure = PublishFailed(str(e) or type(e).__name__)
        finally:
            replies.came.cancel()  # no-op when it came
            self._replies = None
        if failure is None:
            if replies.reply is None:
                failure = PublishFailed("no acknowledgement in time")
            else:
                try:
                    return WindowResult(len(messages), read_ack(replies.reply), None)
                except PublishFailed as refused:
                    failure = refused
        held = await self._held(messages)
        failure.resumable = held > 0 and failure.resumable
        return WindowResult(held, False, failure)

    async def _held(self, messages: Sequence[Outgoing]) -> int:
        """How many of ``messages`` from the start the stream holds: through its last message
        on this publisher's subjects, if that is one of them (every message of the window
        before it was stored directly before it); 0 when it cannot be asked."""
        try:
            js = self.nc.jetstream(timeout=self.timeout)
            last = await js.get_msg(self.stream, subject=self.subjects)
        except nats.errors.Error:  # none there (NotFoundError), or the server is away
            return 0
        msg_id = (last.headers or {}).get("Nats-Msg-Id")
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].msg_id == msg_id:
                return index + 1
        return 0


class _Replies:
    """The acknowledgement of one window's last message, by the token its reply subject ends in."""

    def __init__(self, token: int) -> None:
        self.token = str(token)
        self.reply: Msg | None = None
        self.came: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def take(self, msg: Msg) -> None:
        if msg.subject.rpartition(".")[2] != self.token or self.reply is not None:
            return  # late (an earlier window's) or foreign: ignored
        self.reply = msg
        if not self.came.done():
            self.came.set_result(None)


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
        if reply:  # none: no acknowledgement asked for
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
        raise PublishFailed(detail, resumable=error.get("err_code") == WRONG_LAST_MSG_ID)
    if "seq" not in answer:
        raise PublishFailed("unreadable acknowledgement")
    return answer.get("duplicate") is True
