"""The engine's JetStream streams, declared idempotently at start (created or updated)."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from ks_engine.settings import Settings

SIGNALS, DLQ, RECEIPTS = "KS_SIGNALS", "KS_DLQ", "KS_RECEIPTS"
DAY = 24 * 3600.0


class StreamSetupError(Exception):
    """A stream exists with settings that cannot be changed in place."""


def intake_streams(settings: Settings) -> list[StreamConfig]:
    """Signals (work queue: a message lives only until processed), dead letters, receipts."""
    replicas = settings.nats_replicas
    return [
        StreamConfig(
            name=SIGNALS,
            description="Partner signals (carry BSNs): kept only until processed",
            subjects=["ks.signals.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_age=settings.signals_max_age_hours * 3600,
            duplicate_window=settings.signals_duplicate_window_seconds,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=DLQ,
            description="Rejected signals with their reason, kept for repair for a bounded time",
            subjects=["ks.dlq.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=settings.dlq_max_age_days * DAY,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=RECEIPTS,
            description="Outcome of every processed signal, per municipality and partner",
            subjects=["ks.receipts.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=settings.receipts_max_age_days * DAY,
            max_msgs_per_subject=1,
            discard=DiscardPolicy.OLD,
            allow_direct=True,
            duplicate_window=settings.signals_duplicate_window_seconds,
            num_replicas=replicas,
        ),
    ]


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or bring an existing one to ``config``."""
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    try:
        await js.update_stream(config)
    except BadRequestError as exc:
        raise StreamSetupError(
            f"stream {config.name} exists with settings that cannot be changed in place "
            f"({exc.description}); migrate it by hand"
        ) from None


async def ensure_intake_streams(js: JetStreamContext, settings: Settings) -> None:
    """Declare KS_SIGNALS, KS_DLQ and KS_RECEIPTS."""
    for config in intake_streams(settings):
        await ensure_stream(js, config)
