"""The CloudEvent envelope through the CloudEvents SDK: what CloudEvents 1.0 asks, in words.

ks-engine's own envelope checks come first and keep their codes and reasons; the SDK then
refuses what CloudEvents 1.0 itself forbids, naming the attribute (never its value), and writes
the contract's examples; the messages ks-engine publishes are held to it by these tests.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ks_engine.clock import AMSTERDAM
from ks_engine.feedback_contract import FeedbackData, feedback_envelope
from ks_engine.signal_contract import (
    ParsedSignal,
    Rejection,
    RejectionCode,
    example_signal,
    parse_signal,
)
from ks_engine.signal_rules import SignalRules
from ks_engine.support_start_contract import example_support_started
from projections import cloudevent
from projections.event import envelope, parse_event, public_data

RULES = SignalRules.serving(["GM0928"], lambda: datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM))
BSN = "111222333"
ACTOR = {"organisation": "gemeente-kerkrade", "role": "coordinator"}


def outcome(doc: dict[str, Any]) -> ParsedSignal | Rejection:
    try:
        return parse_signal(json.dumps(doc).encode(), "ks.signals.GM0928", rules=RULES)
    except Rejection as rejection:
        return rejection


def test_the_examples_are_written_by_the_sdk_and_read_back() -> None:
    signal = example_signal(BSN)
    assert signal["time"] == "2026-11-23T10:15:00+01:00"
    assert isinstance(outcome(signal), ParsedSignal)
    started = example_support_started("c-1")
    assert cloudevent.read(json.dumps(started).encode()).get_type() == started["type"]


def test_a_time_without_its_utc_offset_is_refused_naming_the_attribute() -> None:
    refused = outcome(example_signal(BSN) | {"time": "2026-11-23T10:15:00"})
    assert isinstance(refused, Rejection)
    assert refused.code is RejectionCode.NOT_CLOUDEVENT
    assert refused.reason == (
        "not a valid CloudEvent: time: must be a timestamp with its UTC offset (RFC 3339, e.g. "
        "2026-11-23T10:15:00+01:00)"
    )
    assert refused.errors[0][0] == "time"


def test_a_subject_that_is_no_string_is_refused() -> None:
    refused = outcome(example_signal(BSN) | {"subject": 42})
    assert isinstance(refused, Rejection)
    assert refused.reason == "not a valid CloudEvent: subject: must be a string"


def test_ks_engines_own_reasons_come_first() -> None:
    # A wrong specversion and a BSN as subject keep their codes and reasons, whatever else.
    doc = example_signal(BSN) | {"specversion": "0.3", "Bad_Name": 1}
    refused = outcome(doc)
    assert isinstance(refused, Rejection)
    assert refused.reason == "specversion must be '1.0' (CloudEvents 1.0), got '0.3'"
    refused = outcome(example_signal(BSN) | {"subject": BSN, "Bad_Name": 1})
    assert isinstance(refused, Rejection)
    assert refused.code is RejectionCode.BSN_AS_REFERENCE


@given(st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True), st.one_of(st.text(), st.integers()))
def test_extension_attributes_with_lower_case_names_are_taken_and_ignored(
    name: str, value: Any
) -> None:
    if name in {"specversion", "type", "source", "id", "time", "subject", "datacontenttype"}:
        return
    if name in {"data", "dataschema"}:
        return
    parsed = outcome(example_signal(BSN) | {name: value})
    assert isinstance(parsed, ParsedSignal), parsed


@given(
    st.text(min_size=1, max_size=20).filter(
        lambda n: not n.isascii() or not ((n.isalnum() and n.islower()) or n.isdigit())
    )
)
@example("0\n")  # the SDK's own check ends in ``$``, which lets a final line break through
@example("ab\n")
@example("\nab")
def test_an_extension_attribute_name_outside_cloudevents_rules_is_refused(name: str) -> None:
    if name in {"data_base64"}:
        return
    refused = outcome(example_signal(BSN) | {name: "waarde-7f3a"})
    assert isinstance(refused, Rejection)
    assert refused.code is RejectionCode.NOT_CLOUDEVENT
    message = "extension attribute names hold only lower-case letters a-z and digits 0-9"
    assert (name[:40], message) in refused.errors
    assert "waarde-7f3a" not in refused.reason  # the attribute is named, its value is not


def _consent_given() -> Any:
    return public_data(
        "ConsentGiven",
        {
            "scope": ["ggd"],
            "expires_on": date(2027, 1, 1),
            "actor": ACTOR,
            "occurred_at": datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM),
        },
    )


def test_a_published_referral_event_is_a_cloudevent_the_sdk_reads() -> None:
    # KS_EVENTS is written with orjson for the relay's speed; the SDK holds it to CloudEvents.
    body = envelope(
        name="ConsentGiven",
        case_id="c-1",
        municipality="GM0928",
        version=4,
        position=17,
        through=19,
        data=_consent_given(),
    )
    read = cloudevent.read(json.dumps(body).encode())
    assert (read.get_subject(), read.get_extension("caseversion")) == ("c-1", 4)
    assert read.get_time() == datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)
    assert read.get_data() == body["data"]
    assert parse_event(json.dumps(body).encode(), seq=1).through == 19


def test_a_feedback_message_is_a_cloudevent_the_sdk_reads() -> None:
    data = FeedbackData(
        case_id=UUID(int=7),
        municipality="GM0928",
        status="consent_given",
        on=date(2026, 11, 30),
        signals=[],
    )
    body = feedback_envelope(
        data=data.model_dump(mode="json", exclude_none=True),
        msg_id="f-1",
        time=datetime(2026, 11, 30, 10, 0, tzinfo=AMSTERDAM),
        position=12,
        part=0,
    )
    read = cloudevent.read(json.dumps(body).encode())
    assert (read.get_type(), read.get_extension("part")) == (body["type"], 0)


def test_the_sdk_names_what_breaks_cloudevents_rules() -> None:
    with pytest.raises(cloudevent.EnvelopeError) as caught:
        cloudevent.build({"specversion": "1.0", "type": "t", "source": "", "id": "1", "X-y": 1})
    assert caught.value.problems == (
        ("X-y", "extension attribute names hold only lower-case letters a-z and digits 0-9"),
        ("source", "must not be empty"),
    )
    with pytest.raises(TypeError, match="JSON object"):
        cloudevent.read(b"[1, 2]")


@given(
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    st.sampled_from(["\n", "\r\n", " ", "\t", "-", "A", "\u00e9"]),
)
def test_a_structured_event_read_with_a_name_that_only_begins_well_is_refused(
    name: str, tail: str
) -> None:
    body = {"specversion": "1.0", "type": "t", "source": "s", "id": "1", name + tail: "x"}
    with pytest.raises(cloudevent.EnvelopeError) as refused:
        cloudevent.read(json.dumps(body).encode())
    assert refused.value.problems == (
        (
            (name + tail)[:40],
            "extension attribute names hold only lower-case letters a-z and digits 0-9",
        ),
    )
