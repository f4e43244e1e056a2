"""Stored events decoded with orjson for the relay: the same domain events, read faster.

eventsourcing's ``JSONTranscoder`` parses with the standard library and calls a Python hook
for every JSON object; the relay reads every case event once, so it parses with orjson and
applies the same registered transcodings (``{"_type_": name, "_data_": value}``, innermost
first) in one walk. The mapper around it is eventsourcing's own (cipher, compressor,
upcasting, originator ids), so the events are the very objects ``app.mapper`` gives. What
orjson does not read alike (NaN, integers beyond 64 bits, which it reads as floats, so any
run of 19 digits) is decoded by the standard transcoder.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

_LONG_DIGITS = re.compile(rb"\d{19}")


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
        if _LONG_DIGITS.search(data):  # orjson reads integers beyond 64 bits as floats
            return super().decode(data)
        try:
            tree = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        return self._walk(tree)

    def _walk(self, node: Any) -> Any:
        if type(node) is dict:
            for key, value in node.items():
                if type(value) is dict or type(value) is list:
                    node[key] = self._walk(value)
            if len(node) == 2 and "_type_" in node and "_data_" in node:
                return self._transcoded(node)
            return node
        for index, value in enumerate(node):
            if type(value) is dict or type(value) is list:
                node[index] = self._walk(value)
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
