"""The published form of Referral events: only pseudonyms, codes and dates leave the engine."""

from __future__ import annotations

import json
from datetime import date, datetime
from uuid import UUID, uuid5

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.nats.relay import coverage
from ks_engine.clock import AMSTERDAM
from projections.errors import InvalidEventError
from projections.event import envelope, event_id, parse_event, public_data

AT = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)
ACTOR = {"organisation": "gemeente-kerkrade", "role": "coordinator", "user_ref": "c-1"}


def test_signalled_keeps_codes_and_drops_personal_details_and_signal_key() -> None:
    stored = {
        "municipality": "GM0928",
        "person_pseudonym": "p" * 64,
        "signal": {
            "signal_key": "midwife#123",
            "reporter": {"organisation": "org-midwife", "role": "midwife"},
            "phase": "pregnancy",
            "phase_date": date(2027, 3, 1),
            "risk_factors": ["debts", "stress"],
            "urgency": "soon",
        },
        "personal": {"name": "Anna de Vries", "birth_date": date(1990, 1, 2), "note": "n"},
        "actor": ACTOR,
        "occurred_at": AT,
        "causation_id": "midwife#123",
        "originator_topic": "domain.referral:Referral",
    }
    data = public_data("Signalled", stored).model_dump(mode="json")
    assert set(data) == {  # no pseudonym: it would tie the case to the person past erasure
        "municipality",
        "signal",
        "actor",
        "occurred_at",
        "follows",
    }
    assert "signal_key" not in data["signal"]
    assert "Anna" not in json.dumps(data)
    assert "1990" not in json.dumps(data)


@pytest.mark.parametrize(
    ("name", "stored", "dropped"),
    [
        (
            "Escalated",
            {
                "meldcode_step": "decide",
                "legal_basis": "Wmo 2015 art. 5.2.6",
                "justification": "vrije tekst",
            },
            "justification",
        ),
        ("Closed", {"outcome": "moved_away", "reason": "vrije tekst"}, "reason"),
        (
            "SupportMatched",
            {
                "offers": [{"offer_id": "voorzorg", "provider": "ggd"}],
                "lead_professional": "Piet",
                "planned_start": date(2026, 12, 1),
            },
            "lead_professional",
        ),
    ],
)
def test_free_text_is_not_published(name: str, stored: dict[str, object], dropped: str) -> None:
    data = public_data(name, stored | {"actor": ACTOR, "occurred_at": AT})
    assert dropped not in data.model_dump()


def test_a_code_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        public_data("Closed", {"outcome": "anything goes", "actor": ACTOR, "occurred_at": AT})


def test_the_envelope_is_a_cloudevent_that_reads_back() -> None:
    data = public_data(
        "ConsentGiven",
        {"scope": ["ggd"], "expires_on": date(2027, 1, 1), "actor": ACTOR, "occurred_at": AT},
    )
    body = envelope(
        name="ConsentGiven",
        case_id="c-1",
        municipality="GM0928",
        version=4,
        position=17,
        through=19,
        data=data,
    )
    assert body["specversion"] == "1.0"
    assert body["type"] == "nl.kansrijkestart.referral.ConsentGiven.v1"
    assert (body["source"], body["subject"], body["datacontenttype"]) == (
        "urn:ks-engine",
        "c-1",
        "application/json",
    )
    assert body["id"] == event_id("c-1", 4) != event_id("c-1", 5)
    assert body["time"] == "2026-11-02T09:30:00+01:00"
    event = parse_event(json.dumps(body).encode(), seq=3)
    assert (event.seq, event.name, event.version, event.position, event.through) == (
        3,
        "ConsentGiven",
        4,
        17,
        19,
    )
    assert event.data == data


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"specversion": "1.0", "type": "com.example.other"}',
        json.dumps({"specversion": "1.0", "type": "nl.kansrijkestart.referral.Paused.v1"}).encode(),
        json.dumps({"specversion": "1.0", "type": "nl.kansrijkestart.referral.Closed.v2"}).encode(),
        json.dumps(
            {
                "specversion": "1.0",
                "type": "nl.kansrijkestart.referral.Closed.v1",
                "id": "x",
                "subject": "c",
                "municipality": "GM0928",
                "caseversion": 2,
                "position": 3,
                "data": {},
            }
        ).encode(),
    ],
)
def test_an_unreadable_message_is_refused_with_its_sequence(raw: bytes) -> None:
    with pytest.raises(InvalidEventError, match="stream message 9"):
        parse_event(raw, seq=9)


def test_coverage_extends_each_referral_event_over_the_records_after_it() -> None:
    # 1 Signalled, 2-3 index and signal record, 4 Closed, 5 index release, 6 Signalled
    items = [(1, True), (2, False), (3, False), (4, True), (5, False), (6, True)]
    assert coverage(items) == {1: 3, 4: 5, 6: 6}
    assert coverage([(1, False), (2, False)]) == {}


@given(case_id=st.one_of(st.uuids(), st.text()), version=st.integers(min_value=0))
def test_an_event_id_is_the_uuid5_of_its_case_and_version(
    case_id: UUID | str, version: int
) -> None:
    # The published id (and Nats-Msg-Id) stays what earlier releases published
    namespace = UUID("5a0c6a3e-3f1d-4a8e-9b0e-6c2d7e1f4b90")
    assert event_id(case_id, version) == str(uuid5(namespace, f"{case_id}:{version}"))
