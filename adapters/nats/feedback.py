"""Feedback to the partner who signalled, published by the relay: exactly once per step.

The event store's notification log is the outbox here too. For each window of the log the
relay publishes the feedback its events give (``domain.feedback``) to stream ``KS_FEEDBACK``,
in log order, and only once all of it was acknowledged the events themselves to
``KS_EVENTS``. So when the relay resumes after the last event KS_EVENTS holds, all feedback up
to there is out; of the feedback after it, the relay skips what KS_FEEDBACK already holds (its
last message names its event's position and its part). The ids (one per event and partner)
let the duplicate window absorb anything else. Nothing is lost, nothing published twice,
through kills of the relay at any point.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

import nats.errors
import orjson
from eventsourcing.persistence import Notification
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from adapters.nats.ordered_publish import OrderedPublisher, Outgoing
from domain.feedback import ACCEPTING, ALWAYS, WITHIN_CONSENT, CaseBefore, feedback_for
from domain.referral import Referral
from ks_engine.application import Referrals
from ks_engine.feedback_contract import (
    FEEDBACK_STREAM,
    FEEDBACK_SUBJECT_PREFIX,
    feedback_data_json,
    feedback_envelope,
    feedback_id,
    feedback_subject,
)
from ks_engine.partners import PartnerRegistry, PartnerTokens
from ks_engine.settings import Settings
from projections.event import event_id as make_event_id

DAY = 24 * 3600.0
DUPLICATE_WINDOW_SECONDS = 600.0
FEEDBACK_SUBJECTS = f"{FEEDBACK_SUBJECT_PREFIX}.>"  # every feedback message's subject
_NAMES = {*ACCEPTING, *ALWAYS, *WITHIN_CONSENT}


class FeedbackStreamError(Exception):
    """Stream KS_FEEDBACK could not be declared or read on the NATS server."""


def feedback_stream_config(settings: Settings) -> StreamConfig:
    """KS_FEEDBACK: every feedback message, kept for ``feedback_max_age_days``."""
    return StreamConfig(
        name=FEEDBACK_STREAM,
        description="Feedback to partners who signalled: steps of their cases, no personal data",
        subjects=[FEEDBACK_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=settings.feedback_max_age_days * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=settings.nats_replicas,
    )


async def ensure_feedback_stream(js: JetStreamContext, settings: Settings) -> None:
    """Create KS_FEEDBACK, or bring an existing one to its configuration."""
    config = feedback_stream_config(settings)
    try:
        try:
            await js.stream_info(FEEDBACK_STREAM)
        except NotFoundError:
            await js.add_stream(config)
            return
        await js.update_stream(config)
    except nats.errors.Error as e:
        raise FeedbackStreamError(f"cannot declare stream {FEEDBACK_STREAM}: {e}") from None


async def last_published(js: JetStreamContext) -> tuple[int, int]:
    """(position, part) of the last feedback message KS_FEEDBACK holds; (0, -1) for none."""
    try:
        last = await js.get_msg(FEEDBACK_STREAM, subject=FEEDBACK_SUBJECTS)
    except NotFoundError:
        return 0, -1
    body = json.loads(last.data or b"{}")
    return int(body["position"]), int(body["part"])


class FeedbackOut(NamedTuple):
    """One feedback message, with its place: (the event's log position, its part)."""

    out: Outgoing
    part: int

    @property
    def place(self) -> tuple[int, int]:
        return self.out.position, self.part


class FeedbackTranslator:
    """The feedback messages of one stored Referral event, in a fixed order."""

    def __init__(self, app: Referrals, partners: PartnerRegistry | None = None) -> None:
        self.app = app
        self.partners = partners
        self._token = PartnerTokens(partners)  # source -> its subject token

    def messages(
        self, n: Notification, event: Any, municipality: str, event_id: str | None = None
    ) -> list[FeedbackOut]:
        """Each feedback message the event of notification ``n`` gives; ``event_id`` is the
        event's id (``projections.event.event_id``) when the caller made it already."""
        name = type(event).__name__
        if name not in _NAMES:
            return []
        attributes: dict[str, Any] = vars(event)
        case_id = event.originator_id
        assert isinstance(case_id, UUID)
        version = int(event.originator_version)
        before: CaseBefore | None = None
        if name not in ACCEPTING:
            found: Any = self.app.repository.get(case_id, version=version - 1)
            assert isinstance(found, Referral)
            before = found
        out = []
        for part, feedback in enumerate(feedback_for(name, attributes, before)):
            event_id = event_id or make_event_id(case_id, version)
            msg_id = feedback_id(event_id, feedback.source)
            body = feedback_envelope(
                data=feedback_data_json(feedback, case_id, municipality),
                msg_id=msg_id,
                time=attributes["occurred_at"],
                position=n.id,
                part=part,
            )
            subject = feedback_subject(municipality, self._token(feedback.source))
            payload = orjson.dumps(body)  # the JSON of the CloudEvent, as on KS_EVENTS
            out.append(FeedbackOut(Outgoing(subject, payload, msg_id, n.id), part))
        return out


class FeedbackPublisher:
    """Publishes a window's feedback in order, and remembers how far KS_FEEDBACK holds it."""

    def __init__(self, js: JetStreamContext, *, timeout: float = 5.0) -> None:
        self.js = js
        self.publisher = OrderedPublisher(
            js._nc, FEEDBACK_STREAM, FEEDBACK_SUBJECTS, timeout=timeout
        )
        self.done = (0, -1)  # the place of the last feedback the stream acknowledged

    async def start(self) -> None:
        """Resume after the last feedback KS_FEEDBACK holds."""
        self.done = max(self.done, await last_published(self.js))

    async def publish(self, feedback: Sequence[FeedbackOut]) -> None:
        """Publish what is not out yet; PublishFailed when a message was not acknowledged
        (the relay then publishes neither the window's events nor, later, this part again)."""
        todo = [f for f in feedback if f.place > self.done]
        if not todo:
            return
        result = await self.publisher.publish([f.out for f in todo])
        if result.acknowledged:
            self.done = todo[result.acknowledged - 1].place
        if result.failure is not None:
            raise result.failure

    async def close(self) -> None:
        await self.publisher.close()
