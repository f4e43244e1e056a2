"""Deliveries of chosen subscriptions handed over as their parts, without nats-py's messages.

For every message it receives, nats-py parses the headers line by line into a dict, builds a
``Msg``, queues it for the subscription's task and awaits the subscription's callback: about
4 µs of CPU per message beyond reading the protocol (bench/NOTES.md). A rebuild reads every
event of the stream and needs only its subject, its data and its reply subject (where its
place in the stream is read from). For a subscription made here the connection hands those
parts to a plain function as the message is read; every other subscription's messages go
nats-py's way, as before.

A message without a reply subject (the server's status of a pull request: 404, 408, 409, a
heartbeat) comes with its headers, read by nats-py's own reader; a delivery comes without.
An error of the handler goes to the connection's error callback, as a callback's error does,
and the connection reads on.

nats-py has no hook for this: the connection's handler of incoming messages is wrapped, once
per connection, and passes every message of another subscription to the handler it wrapped.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

# subject, reply subject ("" for none), data, headers (only of a message without a reply)
Handler = Callable[[str, str, bytes, dict[str, str] | None], None]

_ROUTES = "_ks_raw_routes"


async def subscribe_raw(nc: NATS, subject: str, handler: Handler) -> Subscription:
    """Subscribe to ``subject``; each message is given to ``handler`` as it is read (see the
    module docstring). End it with ``unsubscribe_raw``."""
    routes = _routes(nc)
    # Without a callback nats-py starts no task for the subscription; its queue stays empty.
    sub = await nc.subscribe(subject, pending_msgs_limit=-1, pending_bytes_limit=-1)
    routes[sub._id] = handler
    return sub


async def unsubscribe_raw(nc: NATS, sub: Subscription) -> None:
    _routes(nc).pop(sub._id, None)
    await sub.unsubscribe()


def _routes(nc: NATS) -> dict[int, Handler]:
    routes: dict[int, Handler] | None = nc.__dict__.get(_ROUTES)
    if routes is not None:
        return routes
    found: dict[int, Handler] = {}
    process_msg = nc._process_msg
    process_headers = nc._process_headers

    async def route(sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        handler = found.get(sid)
        if handler is None:
            await process_msg(sid, subject, reply, data, headers)
            return
        nc.stats["in_msgs"] += 1
        nc.stats["in_bytes"] += len(data)
        read = await process_headers(headers) if headers and not reply else None
        try:
            handler(subject.decode(), reply.decode(), data, read)
        except Exception as e:  # as nats-py treats a callback's error: reported, and the
            await nc._error_cb(e)  # connection reads on

    setattr(nc, "_process_msg", route)  # noqa: B010 - an instance's handler, not the class's
    setattr(nc, _ROUTES, found)
    return found
