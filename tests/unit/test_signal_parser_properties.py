"""Whatever a partner sends, the signal parser answers with a signal or a rejection, never more.

A parser that raises anything else takes the intake down with it (and the valid signals of the
same batch); a signal it lets through must be storable and receipted without a further error.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_engine.clock import AMSTERDAM
from ks_engine.partners import partner_token
from ks_engine.receipts import Receipt, signal_reference
from ks_engine.signal_contract import (
    ParsedSignal,
    Rejection,
    RejectionCode,
    example_signal,
    parse_signal,
    to_domain,
)
from ks_engine.signal_rules import SignalRules

SUBJECT = "ks.signals.GM0928"
RULES = SignalRules.serving(["GM0928"], lambda: datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM))


def pseudonymise(bsn: str) -> str:
    return hashlib.sha256(bsn.encode()).hexdigest()


ODD = [
    "\ud800",  # a lone surrogate
    "\udfff",
    "\x00",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",
    "\uffff",
    "\U0001f476",
    "١٢٣٤٥٦٧٨٢",  # Arabic-Indic digits
    "\n\r\t",
]
FIELDS = [
    ("specversion",),
    ("type",),
    ("source",),
    ("id",),
    ("time",),
    ("subject",),
    ("data",),
    ("data", "municipality"),
    ("data", "person"),
    ("data", "person", "bsn"),
    ("data", "person", "name"),
    ("data", "person", "birth_date"),
    ("data", "reporter", "organisation"),
    ("data", "phase", "date"),
    ("data", "risk_factors"),
    ("data", "urgency"),
    ("data", "note"),
    ("data", "person", "address"),
    ("data", "person", "phone"),
    ("data", "household"),
    ("data", "household", "co_parent"),
    ("data", "household", "children"),
    ("data", "referral_consent"),
]


def odd_text() -> st.SearchStrategy[str]:
    anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
    return st.one_of(anything, st.lists(st.sampled_from(ODD), max_size=6).map("".join))


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        odd_text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(odd_text(), inner, max_size=4)
        ),
        max_leaves=12,
    )


def encode(doc: Any, ascii_only: bool) -> bytes:
    """As a partner's library would: escaped (\\ud800) or raw (invalid UTF-8 for surrogates)."""
    text = json.dumps(doc, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


def nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return (opener * depth + "1" + closer * depth).encode()


def huge_number(digits: int, fraction: bool) -> str:
    return "9" * digits + (".5e3" if fraction else "")


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = example_signal("111222333", co_parent_bsn="123456782")
    doc["data"]["referral_consent"] = {"given_by": "both", "given_on": "2026-11-20"}
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def outcome(raw: bytes, subject: str | None = SUBJECT) -> ParsedSignal | Rejection:
    """What the parser makes of ``raw``; any other exception fails the test."""
    try:
        return parse_signal(raw, subject, rules=RULES)
    except Rejection as rejection:
        return rejection


def assert_signal_or_rejection(raw: bytes, subject: str | None = SUBJECT) -> None:
    parsed = outcome(raw, subject)
    if isinstance(parsed, Rejection):
        assert isinstance(parsed.code, RejectionCode)
        assert parsed.reason
        return
    assert isinstance(parsed, ParsedSignal)
    # What passes is storable and can be receipted: no later step fails on it.
    signal, actor = to_domain(parsed, pseudonymise)
    signal.model_dump_json()
    actor.model_dump_json()
    partner_token(parsed.event.source, None)
    signal_reference(parsed.event.signal_key)
    Receipt(
        reference="r",
        status="accepted",
        source=parsed.event.source,
        signal_id=parsed.event.id,
        processed_at="2026-12-01T10:00:00+01:00",  # type: ignore[arg-type]
    ).model_dump_json()


@given(st.binary(max_size=400))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert_signal_or_rejection(raw)


@given(st.integers(min_value=1, max_value=200_000), st.sampled_from(["[", '{"a":']))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
def test_deeply_nested_json(depth: int, opener: str) -> None:
    assert_signal_or_rejection(nested(depth, opener))


@given(
    st.sampled_from(FIELDS),
    st.integers(min_value=4_000, max_value=50_000),
    st.booleans(),
)
@settings(max_examples=40)
def test_huge_numbers_anywhere(path: tuple[str, ...], digits: int, fraction: bool) -> None:
    marker = "__huge__"
    raw = json.dumps(with_value(path, marker)).replace(f'"{marker}"', huge_number(digits, fraction))
    assert_signal_or_rejection(raw.encode())
    assert_signal_or_rejection(huge_number(digits, fraction).encode())


@given(st.sampled_from(FIELDS), st.integers(min_value=100, max_value=50_000))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
def test_deep_nesting_anywhere(path: tuple[str, ...], depth: int) -> None:
    marker = "__deep__"
    raw = json.dumps(with_value(path, marker)).replace(f'"{marker}"', "[" * depth + "]" * depth)
    assert_signal_or_rejection(raw.encode())


@given(st.sampled_from(FIELDS), odd_text(), st.booleans())
def test_odd_unicode_in_any_field(path: tuple[str, ...], text: str, ascii_only: bool) -> None:
    assert_signal_or_rejection(encode(with_value(path, text), ascii_only))


@given(st.sampled_from(FIELDS), json_values(), st.booleans())
def test_arbitrary_json_values_in_any_field(
    path: tuple[str, ...], value: Any, ascii_only: bool
) -> None:
    assert_signal_or_rejection(encode(with_value(path, value), ascii_only))


@given(json_values(), st.booleans(), st.one_of(st.none(), odd_text()))
def test_arbitrary_json_documents(value: Any, ascii_only: bool, subject: str | None) -> None:
    assert_signal_or_rejection(encode(value, ascii_only), subject)


@given(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1E400"]))
def test_numbers_json_does_not_have(token: str) -> None:
    assert_signal_or_rejection(f'{{"specversion": {token}}}'.encode())
    assert_signal_or_rejection(
        json.dumps(with_value(("data", "urgency"), 0)).replace("0", token, 1).encode()
    )


def test_the_parser_names_what_made_the_message_unreadable() -> None:
    cases = {
        nested(100_000, "["): "nested too deeply",
        huge_number(10_000, False).encode(): "number too long",
        b'{"id": "\\ud800"}': "surrogate",
        b'{"id": NaN}': "NaN",
        b"\xff\xfe": "UTF-8",
    }
    for raw, words in cases.items():
        rejection = outcome(raw)
        assert isinstance(rejection, Rejection), raw[:20]
        assert rejection.code is RejectionCode.NOT_JSON
        assert words in rejection.reason


@given(
    st.integers(min_value=1, max_value=300),
    st.integers(min_value=1, max_value=200),
    st.sampled_from(["a", "é", "\U0001f476", "/"]),
)
def test_envelope_attributes_as_long_as_the_contract_allows(
    source_length: int, id_length: int, char: str
) -> None:
    doc = example_signal("111222333")
    doc["source"] = "https://" + char * max(source_length - 8, 0) if source_length > 8 else "s"
    doc["id"] = char * id_length
    assert_signal_or_rejection(json.dumps(doc).encode())
    doc["source"], doc["id"] = "s" * 300, "i" * 200
    parsed = parse_signal(json.dumps(doc).encode(), SUBJECT, rules=RULES)
    assert to_domain(parsed, pseudonymise)[0].signal_key == f"{'s' * 300}#{'i' * 200}"
