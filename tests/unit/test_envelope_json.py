"""The relay writes each CloudEvent with ``envelope_json`` from ``published_json``: byte for
byte the JSON of ``envelope`` written by orjson, for every kind of event and for any text and
time in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from adapters.nats.relay import is_referral
from projections.event import (
    ActorRef,
    EventData,
    Signalled,
    envelope,
    envelope_json,
    public_data,
    published_json,
)
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import notifications, play, referrals


def assert_same(data: EventData, name: str, **fields: Any) -> None:
    """The relay's envelope of the data (written as ``published_json`` writes the attributes
    it was validated from) is ``envelope``'s."""
    body = envelope(name=name, data=data, **fields)
    data_json, at = published_json(name, data.model_dump())
    assert envelope_json(data_json, at, name=name, **fields) == (orjson.dumps(body), body["id"])


def test_every_kind_of_event_is_written_as_envelope_writes_it(clock: FixedClock) -> None:
    app = referrals(clock)
    play(app, clock, seed=3, steps=300)
    names = set()
    for n in notifications(app):
        if not is_referral(n):
            continue
        event = app.mapper.to_domain_event(n)
        name = type(event).__name__
        names.add(name)
        assert_same(
            public_data(name, vars(event)),
            name,
            case_id=event.originator_id,
            municipality="GM0928",
            version=event.originator_version,
            position=n.id,
            through=n.id + 3,
        )
    assert len(names) > 20


text = st.text(max_size=200)
zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
times = st.datetimes(timezones=st.one_of(st.just(UTC), zones))


@given(organisation=text, user_ref=text, at=times, municipality=text)
def test_any_text_and_time_is_written_as_envelope_writes_it(
    organisation: str, user_ref: str, at: datetime, municipality: str
) -> None:
    data = Signalled.model_validate(
        {
            "actor": ActorRef(organisation=organisation, role="partner", user_ref=user_ref),
            "occurred_at": at,
            "municipality": municipality,
            "signal": {
                "reporter": {"organisation": organisation, "role": "midwife"},
                "phase": "pregnancy",
                "risk_factors": ["debts"],
                "urgency": "soon",
            },
        }
    )
    assert_same(
        data,
        "Signalled",
        case_id="c-1",
        municipality=municipality,
        version=1,
        position=5,
        through=4,
    )
