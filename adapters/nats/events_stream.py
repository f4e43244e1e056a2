"""Stream ``KS_EVENTS``: every Referral event, append-only, declared idempotently.

File storage, deletes and purges denied, no message, byte or age limit. The duplicate window
lets the relay publish an event again after a crash without storing it twice; the relay
also starts after the stream's last event, so a restart long after the window is safe too.
"""

from __future__ import annotations

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from projections.event import STREAM, SUBJECT_PREFIX

DUPLICATE_WINDOW_SECONDS = 600.0


class EventsStreamError(Exception):
    """Stream KS_EVENTS could not be declared on the NATS server."""


def events_stream_config(replicas: int) -> StreamConfig:
    """The configuration of KS_EVENTS (replicas: 1 embedded, 3 in a cluster)."""
    return StreamConfig(
        name=STREAM,
        description="ks-engine: Referral events as CloudEvents (append-only)",
        subjects=[f"{SUBJECT_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_msgs=-1,
        max_bytes=-1,
        max_age=0,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        deny_delete=True,
        deny_purge=True,
    )


def _differs(have: StreamConfig, want: StreamConfig) -> bool:
    fields = ("subjects", "num_replicas", "duplicate_window", "deny_delete", "deny_purge")
    return any(getattr(have, f) != getattr(want, f) for f in fields) or (
        (have.max_msgs or -1) != -1 or (have.max_bytes or -1) != -1 or bool(have.max_age)
    )


async def ensure_events_stream(js: JetStreamContext, replicas: int = 1) -> StreamInfo:
    """Create KS_EVENTS, or bring an existing one to the configuration above."""
    want = events_stream_config(replicas)
    try:
        try:
            info = await js.stream_info(STREAM)
        except NotFoundError:
            return await js.add_stream(want)
        if _differs(info.config, want):
            return await js.update_stream(want)
        return info
    except nats.errors.Error as e:
        raise EventsStreamError(f"cannot declare stream {STREAM} on the NATS server: {e}") from None
