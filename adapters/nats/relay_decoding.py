"""Stored events decoded with orjson for the relay: the same domain events, read faster.

eventsourcing's ``JSONTranscoder`` parses with the standard library and calls a Python hook
for every JSON object; the relay reads every case event once, so it parses with orjson and
applies the same registered transcodings (``{"_type_": name, "_data_": value}``, innermost
first) in one walk. The mapper around it is eventsourcing's own (cipher, compressor,
upcasting, originator ids), so the events are the very objects ``app.mapper`` gives. What
orjson does not read alike (NaN; integers beyond 64 bits, which it reads as floats) is decoded
by the standard transcoder.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

# orjson reads an integer beyond 64 bits as a float, where the standard library reads an int:
# any float this large sends the event to the standard transcoder.
_LARGE = 2.0**63


class _BeyondOrjson(Exception):
    """A value orjson does not read as the standard library does."""


class OrjsonDecodingTranscoder(JSONTranscoder):
    """A JSONTranscoder that decodes with orjson; encoding is unchanged."""

    @classmethod
    def like(cls, other: JSONTranscoder) -> OrjsonDecodingTranscoder:
        """A transcoder with ``other``'s registered transcodings."""
        made = cls()
        for transcoding in other.names.values():
            made.register(transcoding)
        return made

    def decode(self, data: bytes) -> Any:
        try:
            return self._walk(orjson.loads(data))
        except (orjson.JSONDecodeError, _BeyondOrjson):
            return super().decode(data)

    def _walk(self, node: Any) -> Any:
        """``node`` with its transcoded values decoded, innermost first (in place)."""
        if type(node) is dict:
            for key, value in node.items():
                kind = type(value)
                if kind is dict or kind is list:
                    node[key] = self._walk(value)
                elif kind is float and not -_LARGE < value < _LARGE:
                    raise _BeyondOrjson
            if len(node) == 2 and "_type_" in node and "_data_" in node:
                return self._transcoded(node)
        elif type(node) is list:
            for index, value in enumerate(node):
                kind = type(value)
                if kind is dict or kind is list:
                    node[index] = self._walk(value)
                elif kind is float and not -_LARGE < value < _LARGE:
                    raise _BeyondOrjson
        elif type(node) is float and not -_LARGE < node < _LARGE:
            raise _BeyondOrjson
        return node

    def _transcoded(self, node: dict[str, Any]) -> Any:
        try:
            transcoding = self.names[node["_type_"]]
        except (KeyError, TypeError):
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{node['_type_']}' is not deserializable. Please "
                "register a custom transcoding for this type."
            ) from None
        return transcoding.decode(node["_data_"])


def orjson_mapper(mapper: Mapper[Any]) -> Mapper[Any]:
    """A mapper like ``mapper`` (same cipher and compressor) that decodes with orjson."""
    transcoder = mapper.transcoder
    if not isinstance(transcoder, JSONTranscoder):
        return mapper
    return Mapper(
        transcoder=OrjsonDecodingTranscoder.like(transcoder),
        compressor=mapper.compressor,
        cipher=mapper.cipher,
    )
