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

A lazy view of a document (``Decoded``, what the audit's summaries are read from) also refuses
a UUID or an Enum, wherever it lies in the value read: with floats, those are the values that
orjson writes otherwise than ``json``, so a summary read from a view can be written by orjson
(``chain.plain_summary_hash``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper


class _FloatFound(Exception):
    """orjson read a float: maybe an integer beyond 64 bits, which ``json`` keeps whole."""


class _NotPlain(ValueError):
    """A view's value is or holds a UUID or an Enum: orjson would write it otherwise."""


# What a view refuses to give, besides floats
_NOT_PLAIN = (UUID, Enum)


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

    def view(self, data: bytes) -> Decoded:
        """The JSON object in ``data`` read as ``decode`` reads it, each value transcoded only
        when it is read (``Decoded``); ValueError or ``_FloatFound`` where that may differ."""
        parsed = orjson.loads(data)
        if type(parsed) is not dict or _transcoded(parsed):
            raise ValueError("not a plain JSON object")
        return Decoded(parsed, self)

    def _hooked(self, value: dict[str, Any] | list[Any], refused: tuple[type, ...] = ()) -> Any:
        """``value`` with every object in it given to ``_decode_obj``, innermost first;
        ``_FloatFound`` when it holds a float, ``_NotPlain`` when an object becomes one of
        the ``refused`` types."""
        if type(value) is list:
            for i, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[i] = self._hooked(item, refused)
                elif kind is float:
                    raise _FloatFound
            return value
        assert isinstance(value, dict)
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._hooked(item, refused)
            elif kind is float:
                raise _FloatFound
        decoded = self._decode_obj(value)
        if refused and decoded is not value and isinstance(decoded, refused):
            raise _NotPlain(type(decoded).__name__)
        return decoded


def quick_mapper(mapper: Mapper[Any]) -> Mapper[Any]:
    """``mapper`` (its cipher and compressor) with a transcoder that parses with orjson."""
    transcoder = mapper.transcoder
    if type(mapper) is not Mapper or type(transcoder) is not JSONTranscoder:
        return mapper  # another mapper or transcoder: decoded as the application decodes
    return Mapper(
        transcoder=OrjsonDecoding(transcoder), cipher=mapper.cipher, compressor=mapper.compressor
    )


def _transcoded(d: dict[str, Any]) -> bool:
    """Whether ``JSONTranscoder._decode_obj`` turns this object into another value."""
    return len(d) == 2 and "_type_" in d and "_data_" in d


class Decoded(Mapping[str, Any]):
    """A JSON object parsed by orjson, read as ``OrjsonDecoding.decode`` would have returned
    it: a value is transcoded when it is read, and a transcoding depends only on what lies
    inside its own object, so each value read equals the one of the whole document decoded.
    An object that stays an object is given as a ``Decoded`` again (not a dict: anything that
    copies it whole, like ``json``, cannot mistake it for the decoded one); a float read raises
    ``_FloatFound`` (``json`` may read that number otherwise), a value that is or holds a
    UUID or an Enum raises ``_NotPlain``."""

    __slots__ = ("_decoding", "_raw")

    def __init__(self, raw: dict[str, Any], decoding: OrjsonDecoding) -> None:
        self._raw, self._decoding = raw, decoding

    def __getitem__(self, key: str) -> Any:
        value = self._raw[key]
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is dict and not _transcoded(value):
            return Decoded(value, self._decoding)
        if kind is dict or kind is list:
            return self._decoding._hooked(value, _NOT_PLAIN)
        raise _FloatFound

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)
