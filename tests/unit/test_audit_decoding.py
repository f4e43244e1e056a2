"""The audit's quicker decoding of stored events gives exactly what eventsourcing's JSON
transcoder gives, value for value and type for type, or fails as it fails: for any JSON, with
the event store's transcodings nested anywhere, and for what orjson does not parse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from ks_engine.audit.decoding import (
    Decoded,
    OrjsonDecoding,
    _FloatFound,
    _NotPlain,
    quick_mapper,
)
from ks_engine.transcoding import DateAsISO


def transcoder() -> JSONTranscoder:
    """The event store's transcoder: eventsourcing's transcodings and ks-engine's."""
    t = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        t.register(transcoding)
    return t


PLAIN, QUICK = transcoder(), OrjsonDecoding(transcoder())

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text()
)
transcoded = (
    st.uuids().map(lambda u: {"_type_": "uuid_hex", "_data_": u.hex})
    | st.decimals(allow_nan=False).map(lambda d: {"_type_": "decimal_str", "_data_": str(d)})
    | st.datetimes(timezones=st.just(UTC)).map(
        lambda d: {"_type_": "datetime_iso", "_data_": d.isoformat()}
    )
    | st.dates().map(lambda d: {"_type_": "date_iso", "_data_": d.isoformat()})
    | st.sampled_from([{"_type_": "unknown", "_data_": 1}, {"_type_": "uuid_hex"}])
)
documents = st.recursive(
    scalars | transcoded,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["_type_", "_data_", "a", "b", "\u00e9"]) | st.text(), inner
        )
    ),
    max_leaves=25,
)


def decoded(t: JSONTranscoder, data: bytes) -> str:
    """What ``t`` decodes, as text that tells types apart; or the error it raises."""
    try:
        return repr(t.decode(data))
    except Exception as e:
        return f"{type(e).__name__}"


@given(documents, st.booleans())
def test_any_document_decodes_to_the_same_values_and_types(doc: Any, ascii_only: bool) -> None:
    data = json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":")).encode()
    assert decoded(QUICK, data) == decoded(PLAIN, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":NaN,"b":Infinity}',
        b'{"big":123456789012345678901234567890}',
        b'{"s":"\\ud800"}',
        b'{"a":1,"a":{"_type_":"uuid_hex","_data_":"' + b"0" * 32 + b'"}}',
        b'"\xff"',
        b"\xef\xbb\xbf{}",
        b" [1.0, -0.0, 1e400, 5e-324] ",
        b"{",
        b'{"_type_":"date_iso","_data_":"2026-13-01"}',
    ],
)
def test_what_orjson_does_not_parse_decodes_or_fails_as_before(data: bytes) -> None:
    assert decoded(QUICK, data) == decoded(PLAIN, data)


def test_the_quick_mapper_keeps_the_cipher_and_decodes_a_stored_event_the_same() -> None:
    plain: Mapper[UUID] = Mapper(transcoder=transcoder())
    quick = quick_mapper(plain)
    assert isinstance(quick.transcoder, OrjsonDecoding)
    assert quick.cipher is plain.cipher
    state = {
        "when": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        "on": date(2026, 12, 3),
        "ids": [UUID(int=5)],
        "amount": Decimal("1.50"),
    }
    data = plain.transcoder.encode(state)
    assert repr(quick.transcoder.decode(data)) == repr(plain.transcoder.decode(data))


def materialised(value: Any) -> Any:
    """A value read from ``Decoded``, every object in it read through to its end."""
    if isinstance(value, Decoded):
        return {key: materialised(value[key]) for key in value}
    if type(value) is list:
        return [materialised(item) for item in value]
    return value


def test_the_reader_refuses_what_may_read_otherwise() -> None:
    with pytest.raises(_FloatFound):
        QUICK.view(b'{"a":{"b":1},"c":1.5}')["c"]  # a float read
    with pytest.raises(ValueError, match="not a plain JSON object"):
        QUICK.view(b"[1]")
    with pytest.raises(ValueError, match="not a plain JSON object"):  # the transcoder replaces it
        QUICK.view(b'{"_type_":"date_iso","_data_":"2026-01-02"}')


def holds_what_orjson_writes_itself(value: Any) -> bool:
    """Whether a UUID, an Enum or a float is anywhere in ``value``."""
    if isinstance(value, UUID | Enum | float):
        return True
    if isinstance(value, Decoded):
        return any(holds_what_orjson_writes_itself(value[key]) for key in value)
    if isinstance(value, dict):
        return any(holds_what_orjson_writes_itself(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_what_orjson_writes_itself(v) for v in value)
    return False


@given(st.dictionaries(st.sampled_from(["_type_", "_data_", "a"]) | st.text(), documents))
def test_each_value_read_lazily_is_the_one_of_the_whole_document_decoded_or_refused(
    doc: Any,
) -> None:
    # Given any JSON object, with transcoded values nested anywhere
    data = json.dumps(doc, separators=(",", ":")).encode()
    try:
        whole = PLAIN.decode(data)
    except Exception:
        return  # the summary's reader leaves what the mapper cannot decode to the mapper
    try:
        view = QUICK.view(data)
    except ValueError:
        return  # no plain JSON object: left to the mapper
    # When it is read value by value (what the reader cannot read exactly, it refuses)
    read = {}
    for key in view:
        try:
            value = materialised(view[key])
        except _NotPlain:
            # Then a value is refused as not plain only when it holds a UUID or an Enum
            assert holds_what_orjson_writes_itself(whole[key])
            continue
        except _FloatFound:  # a float, or a number beyond 64 bits
            continue
        # Then no value given holds a UUID, an Enum or a float
        assert not holds_what_orjson_writes_itself(value)
        read[key] = repr(value)
    # Then every value given is the very value, of the very type, of the whole document decoded
    assert read == {key: repr(whole[key]) for key in read}
    assert set(view) == set(whole)
    assert len(view) == len(whole)
    assert all((key in view) == (key in whole) for key in ["_type_", "a", "zz"])


def test_a_view_refuses_a_uuid_in_a_list_and_gives_a_date() -> None:
    uuid = b'{"_type_":"uuid_hex","_data_":"' + b"0" * 32 + b'"}'
    view = QUICK.view(
        b'{"a":[1,' + uuid + b'],"b":' + uuid + b',"c":{"_type_":"date_iso","_data_":"2026-01-02"}}'
    )
    with pytest.raises(_NotPlain):
        view["a"]
    with pytest.raises(_NotPlain):
        view["b"]
    assert view["c"] == date(2026, 1, 2)
