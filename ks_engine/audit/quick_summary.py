"""Reading a stored case event for its summary without building the domain event object.

``ks audit verify`` recomputes the summary of every case event. eventsourcing's mapper
decrypts the stored bytes, decodes the whole document (every transcoded value in it, the
personal details and the signal's dates included) and builds the event object; the summary
reads a few of its attributes. Here the document is parsed by orjson and only the values the
summary reads are transcoded (``decoding.Decoded``): each one equals the attribute of the
event object, so the summary is the same, byte for byte. Whatever this reading cannot do as
the mapper does (another mapper or transcoder, an event class that upcasts, a float, a
document that is no plain object, an error of any kind) it leaves to the mapper. A signal's
few summary fields are parsed alone (``signal_reading``), skipping its sealed details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.persistence import Mapper
from eventsourcing.utils import resolve_topic

from ks_engine.audit.decoding import OrjsonDecoding
from ks_engine.audit.signal_reading import DATETIME, SIGNAL_EVENTS, signal_attributes


class CannotRead(Exception):
    """The event is left to eventsourcing's mapper."""


class QuickReader:
    """Decrypts and parses stored case events as ``mapper`` does (``quick_mapper``'s)."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self._cipher, self._compressor = mapper.cipher, mapper.compressor
        transcoder = mapper.transcoder
        self._decoding = transcoder if type(transcoder) is OrjsonDecoding else None
        self._names: dict[str, str] = {}  # topic -> the name of its event class
        datetimes = self._decoding.names.get(DATETIME) if self._decoding else None
        self._datetime = datetimes.decode if datetimes is not None else None

    def read(self, topic: str, state: bytes) -> tuple[str, Mapping[str, Any]]:
        """The name of the event's class and the attributes the summary reads, as the mapper
        decodes them (but ``originator_id`` and ``originator_version``, which the mapper
        takes from the row)."""
        if self._decoding is None:
            raise CannotRead("another mapper or transcoder")
        name = self._names.get(topic) or self._name(topic)
        if self._cipher is not None:
            state = self._cipher.decrypt(state)
        if self._compressor is not None:
            state = self._compressor.decompress(state)
        if name in SIGNAL_EVENTS and self._datetime is not None:
            read = signal_attributes(state, self._datetime)
            if read is not None:
                return name, read
        return name, self._decoding.view(state)

    def _name(self, topic: str) -> str:
        cls = resolve_topic(topic)
        if getattr(cls, "class_version", 1) != 1:
            raise CannotRead("the mapper upcasts this event's attributes")
        name: str = cls.__name__
        self._names[topic] = name
        return name
