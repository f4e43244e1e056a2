"""A stored Referral event as the relay publishes it: its message on ``KS_EVENTS`` (see
``projections.event``) and the feedback it gives (see ``adapters.nats.feedback``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from adapters.nats.feedback import FeedbackOut, FeedbackTranslator
from adapters.nats.ordered_publish import Outgoing
from adapters.nats.relay_decoding import orjson_mapper
from ks_engine.application import Referrals
from ks_engine.audit.summary import is_case_event
from projections.errors import InvalidEventError
from projections.event import envelope_json, published_json, subject_for

_MOVED = ".CaseTransferred"  # the topic's end of the event that moves a case


class RelayError(Exception):
    """The relay cannot go on without losing an event; it stops rather than skip one."""


def coverage(items: Sequence[tuple[int, bool]]) -> dict[int, int]:
    """For each Referral notification (position, True), the last position read before the
    next Referral notification: a reader that applied it has seen the log up to there."""
    through: dict[int, int] = {}
    last: int | None = None
    for position, is_referral in items:
        if is_referral:
            last = position
        if last is not None:
            through[last] = position
    return through


def is_referral(n: Notification) -> bool:
    """Whether ``n`` is an event of a case (its erasure event is defined by a base class)."""
    return is_case_event(n.topic)


class EventTranslator:
    """Turns a stored Referral event into its published message (see projections.event)."""

    def __init__(
        self,
        app: Referrals,
        cache_size: int = 50_000,
        feedback: FeedbackTranslator | None = None,
    ) -> None:
        self.app = app
        self.cache_size = cache_size
        self.feedback = feedback
        # Each case's municipality as the events met so far tell (since ``read_ahead``)
        self._municipality: dict[UUID, str] = {}
        # The municipality each case read ahead had from which version on (``read_ahead``)
        self._settled: dict[UUID, list[tuple[int, str]]] = {}
        self.mapper = orjson_mapper(app.mapper)  # the same events as app.mapper's, read faster

    def read_ahead(self, notifications: Sequence[Notification]) -> None:
        """Begin a window of the log (``notifications``, in order): forget what earlier
        windows told of cases, and read in one query the first events and moves of the cases
        whose later events are in it and that it does not open.

        A translator that is not given every window (each windows process of the relay takes
        every other one) cannot trust its memory of a case across windows: another one may
        have translated the case's move in between. Within a window it meets every event."""
        self._municipality, self._settled = {}, {}
        opened: set[UUID | str] = set()
        wanted: set[UUID] = set()
        for n in notifications:  # in log order: a case's first event before its later ones
            case_id = n.originator_id
            if n.originator_version == 1:
                opened.add(case_id)
            elif case_id not in opened and isinstance(case_id, UUID) and is_referral(n):
                wanted.add(case_id)
        stored = self.app.stored_events_of(wanted) if wanted else None
        for case_id, events in (stored or {}).items():
            self._settled[case_id] = self._settlements(events)

    def translate(self, n: Notification, through: int) -> Outgoing:
        """The message of Referral notification ``n``; RelayError if it cannot be published."""
        return self.translate_with_feedback(n, through)[0]

    def translate_with_feedback(
        self, n: Notification, through: int
    ) -> tuple[Outgoing, list[FeedbackOut]]:
        """The event's message and (with a feedback translator) the feedback it gives."""
        event = self.mapper.to_domain_event(n)
        name = type(event).__name__
        attributes: dict[str, Any] = vars(event)
        case_id = event.originator_id
        assert isinstance(case_id, UUID)
        try:
            data_json, occurred_at = published_json(name, attributes)
        except (ValueError, InvalidEventError) as e:  # pydantic's ValidationError: ValueError
            raise RelayError(
                f"Referral event {name} of case {case_id} (position {n.id}) does not fit its "
                "published form; the relay stops rather than skip it"
            ) from e
        municipality = self._municipality_of(name, case_id, attributes, event.originator_version)
        payload, msg_id = envelope_json(
            data_json,
            occurred_at,
            name=name,
            case_id=str(case_id),  # once: the id and the subject are made of its text
            municipality=municipality,
            version=event.originator_version,
            position=n.id,
            through=through,
        )
        message = Outgoing(
            subject=subject_for(municipality, name),
            payload=payload,
            msg_id=msg_id,
            position=n.id,
        )
        feedback = self.feedback.messages(n, event, municipality, msg_id) if self.feedback else []
        return message, feedback

    def _municipality_of(
        self, name: str, case_id: UUID, attributes: dict[str, Any], version: int
    ) -> str:
        # Signalled names the municipality and CaseTransferred the one the case moved to;
        # other events are published under the case's municipality at their version.
        moved_to = attributes.get("to_municipality") if name == "CaseTransferred" else None
        found = attributes.get("municipality") or moved_to or self._municipality.get(case_id)
        if found is None:
            found = self._municipality_at(case_id, version)
        if len(self._municipality) >= self.cache_size:
            self._municipality.clear()
        self._municipality[case_id] = str(found)
        return str(found)

    def _municipality_at(self, case_id: UUID, version: int) -> str:
        """The case's municipality at ``version``, as the case has it then: the one its first
        event names, or the one it last moved to (``CaseTransferred``), the only two events
        that set it. Only those are decoded, not the case's whole history."""
        settled = self._settled.get(case_id)
        if settled is None:
            settled = self._settlements(self.app.recorder.select_events(case_id, lte=version))
        found = [municipality for since, municipality in settled if since <= version]
        if not found:
            raise RelayError(f"case {case_id} has no first event before version {version}")
        return found[-1]

    def _settlements(self, events: Iterable[StoredEvent]) -> list[tuple[int, str]]:
        """(version, municipality) of each of a case's stored ``events`` (in version order)
        that sets its municipality, decoding those alone."""
        settled: list[tuple[int, str]] = []
        for stored in events:
            first = stored.originator_version == 1
            if first or stored.topic.endswith(_MOVED):
                event: Any = self.mapper.to_domain_event(stored)
                municipality = event.municipality if first else event.to_municipality
                settled.append((stored.originator_version, str(municipality)))
        return settled
