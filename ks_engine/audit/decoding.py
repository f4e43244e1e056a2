"""Decoding stored events for ``ks audit verify``'s summaries faster: eventsourcing's mapper
with its JSON transcoder parsing by orjson.

The result is the one ``JSONTranscoder.decode`` gives: orjson parses JSON into the same
values as the ``json`` module, and the transcodings are applied to each object innermost
first, as ``json``'s ``object_hook`` applies them. What orjson does not parse (numbers beyond
64 bits, ``NaN``, lone surrogates, bytes that are no UTF-8) is decoded by ``json`` as before,
so an unreadable event is as unreadable, with the same error. orjson reads an integer beyond
64 bits as a float where ``json`` keeps it whole: a document with 19 digits in a row anywhere
is left to ``json`` too.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper

_LONG_NUMBER = re.compile(rb"[0-9]{19}").search  # an integer that may not fit in 64 bits


class OrjsonDecoding(JSONTranscoder):
    """A JSONTranscoder with the transcodings of another, parsing with orjson."""

    def __init__(self, like: JSONTranscoder) -> None:
        super().__init__()
        self.types, self.names = dict(like.types), dict(like.names)

    def decode(self, data: bytes) -> Any:
        if not _LONG_NUMBER(data):
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                pass  # json parses it, or fails as it always did
            else:
                kind = type(parsed)
                return self._hooked(parsed) if kind is dict or kind is list else parsed
        return super().decode(data)

    def _hooked(self, value: dict[str, Any] | list[Any]) -> Any:
        """``value`` with every object in it given to ``_decode_obj``, innermost first."""
        if type(value) is list:
            for i, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[i] = self._hooked(item)
            return value
        assert isinstance(value, dict)
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._hooked(item)
        return self._decode_obj(value)


def quick_mapper(mapper: Mapper[Any]) -> Mapper[Any]:
    """``mapper`` (its cipher and compressor) with a transcoder that parses with orjson."""
    transcoder = mapper.transcoder
    if type(mapper) is not Mapper or type(transcoder) is not JSONTranscoder:
        return mapper  # another mapper or transcoder: decoded as the application decodes
    return Mapper(
        transcoder=OrjsonDecoding(transcoder), cipher=mapper.cipher, compressor=mapper.compressor
    )
