"""Decoding stored events for ``ks audit verify``'s summaries faster: eventsourcing's mapper
with its JSON transcoder parsing by orjson.

The result is the one ``JSONTranscoder.decode`` gives: orjson parses JSON into the same
values as the ``json`` module, and the transcodings are applied to each object innermost
first, as ``json``'s ``object_hook`` applies them. What orjson does not parse (``NaN``, numbers
beyond a double, lone surrogates, bytes that are no UTF-8) is decoded by ``json`` as before,
so an unreadable event is as unreadable, with the same error. orjson reads an integer beyond
64 bits as a float where ``json`` keeps it whole: a document in which orjson found any float
is left to ``json`` too (the events hold none; before, a search for 19 digits in a row took a
tenth of verify's time).
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper


class _FloatFound(Exception):
    """orjson read a float: maybe an integer beyond 64 bits, which ``json`` keeps whole."""


class OrjsonDecoding(JSONTranscoder):
    """A JSONTranscoder with the transcodings of another, parsing with orjson."""

    def __init__(self, like: JSONTranscoder) -> None:
        super().__init__()
        self.types, self.names = dict(like.types), dict(like.names)

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)  # json parses it, or fails as it always did
        kind = type(parsed)
        try:
            if kind is dict or kind is list:
                return self._hooked(parsed)
            if kind is not float:
                return parsed
        except _FloatFound:
            pass
        return super().decode(data)

    def _hooked(self, value: dict[str, Any] | list[Any]) -> Any:
        """``value`` with every object in it given to ``_decode_obj``, innermost first;
        ``_FloatFound`` when it holds a float."""
        if type(value) is list:
            for i, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[i] = self._hooked(item)
                elif kind is float:
                    raise _FloatFound
            return value
        assert isinstance(value, dict)
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._hooked(item)
            elif kind is float:
                raise _FloatFound
        return self._decode_obj(value)


def quick_mapper(mapper: Mapper[Any]) -> Mapper[Any]:
    """``mapper`` (its cipher and compressor) with a transcoder that parses with orjson."""
    transcoder = mapper.transcoder
    if type(mapper) is not Mapper or type(transcoder) is not JSONTranscoder:
        return mapper  # another mapper or transcoder: decoded as the application decodes
    return Mapper(
        transcoder=OrjsonDecoding(transcoder), cipher=mapper.cipher, compressor=mapper.compressor
    )
