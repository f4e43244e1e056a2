"""The relay writes each event's published fields with msgspec (``published_json``): the very
JSON pydantic writes of ``public_data``, for every kind of event and for any value, and what
pydantic refuses is refused with pydantic's words."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.nats.relay import is_referral
from domain.after_match import NeedResult, NextStep
from domain.values import HealthScores, Need, Phase, RiskFactor, Urgency
from projections.errors import InvalidEventError
from projections.event_data import DATA_MODELS, public_data
from projections.published_json import STRUCTS, msgspec_json, published_json
from tests.conftest import AMSTERDAM, FixedClock
from tests.unit.test_projection_scenario import notifications, play, referrals


def pydantic_json(name: str, attributes: dict[str, Any]) -> tuple[bytes, datetime] | None:
    """What pydantic writes of the event; None when it refuses it."""
    try:
        model = public_data(name, attributes)
    except (ValidationError, InvalidEventError):
        return None
    return model.__pydantic_serializer__.to_json(model), model.occurred_at


def written(name: str, attributes: dict[str, Any]) -> tuple[bytes, datetime] | None:
    try:
        return published_json(name, attributes)
    except (ValidationError, InvalidEventError):
        return None


def test_every_model_but_the_one_with_a_validator_has_a_msgspec_form() -> None:
    assert set(DATA_MODELS) - set(STRUCTS) == {"PersonalDetailsCorrected"}
    for name, struct in STRUCTS.items():
        assert struct.__struct_fields__ == tuple(DATA_MODELS[name].model_fields)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_every_kind_of_event_is_written_as_pydantic_writes_it(clock: FixedClock, seed: int) -> None:
    app = referrals(clock)
    play(app, clock, seed=seed, steps=300)
    names, by_msgspec = set(), set()
    for n in notifications(app):
        if not is_referral(n):
            continue
        event = app.mapper.to_domain_event(n)
        name, attributes = type(event).__name__, vars(event)
        names.add(name)
        want = pydantic_json(name, attributes)
        assert want is not None
        assert published_json(name, attributes) == want
        fast = msgspec_json(name, attributes)
        if name in STRUCTS:  # the stored events of today all take msgspec's path
            assert fast == want
            by_msgspec.add(name)
        else:
            assert fast is None
    assert len(names) > 20
    assert by_msgspec == names - {"PersonalDetailsCorrected"}


texts = st.text(max_size=220)
offsets = st.integers(-86_399, 86_399).map(lambda s: timezone(timedelta(seconds=s)))
minute_offsets = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
times = st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), minute_offsets, offsets))
codes = st.one_of(st.from_regex(r"GM\d{4}", fullmatch=True), texts)
roles = st.sampled_from(["partner", "coordinator", "midwife", "", "auditor"])


def actor(organisation: str, role: str, user_ref: str) -> dict[str, Any]:
    return {"organisation": organisation, "role": role, "user_ref": user_ref}


@given(
    organisation=texts,
    role=roles,
    at=times,
    signal_at=st.one_of(st.none(), times),
    phase_date=st.one_of(st.none(), st.dates()),
    risk=st.lists(st.sampled_from([*RiskFactor, "unknown"]), max_size=3),
    municipality=texts,
    follows=st.one_of(st.none(), texts),
)
@example(
    organisation="o",
    role="partner",
    at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30))),
    signal_at=None,
    phase_date=None,
    risk=[RiskFactor.DEBTS],
    municipality="GM0928",
    follows=None,
)
def test_any_signal_is_written_or_refused_as_pydantic_does(
    organisation: str,
    role: str,
    at: datetime,
    signal_at: datetime | None,
    phase_date: date | None,
    risk: list[str],
    municipality: str,
    follows: str | None,
) -> None:
    signal = {
        "reporter": {"organisation": organisation, "role": "midwife"},
        "phase": Phase.PREGNANCY,
        "phase_date": phase_date,
        "risk_factors": risk,
        "urgency": Urgency.SOON,
        "at": signal_at,
        "signal_key": "https://partner.example#1",  # stored, never published
    }
    attributes = {
        "actor": actor(organisation, role, "u-1"),
        "occurred_at": at,
        "municipality": municipality,
        "signal": signal,
        "follows": follows,
        "person_pseudonym": "k1.secret",  # stored, never published
    }
    assert written("Signalled", attributes) == pydantic_json("Signalled", attributes)


@given(
    legal_basis=texts,
    organisations=st.lists(texts, max_size=3),
    to_municipality=codes,
    signal_number=st.integers(-2, 3),
    remaining=st.integers(-2, 3),
    reason=st.sampled_from(["request", "retention", "correction", "wrong_person", "other"]),
    coordinator=texts,
    basis=texts,
    at=times,
)
@example(
    legal_basis="x",
    organisations=[],
    to_municipality="GM1234\n",
    signal_number=1,
    remaining=0,
    reason="request",
    coordinator="c",
    basis="b",
    at=datetime(2026, 1, 1, tzinfo=UTC),
)
def test_bounds_patterns_and_other_names_are_kept_as_pydantic_keeps_them(
    legal_basis: str,
    organisations: list[str],
    to_municipality: str,
    signal_number: int,
    remaining: int,
    reason: str,
    coordinator: str,
    basis: str,
    at: datetime,
) -> None:
    common = {"actor": actor("o", "coordinator", ""), "occurred_at": at}
    events = {
        "Escalated": {
            "meldcode_step": "consult",
            "legal_basis": legal_basis,
            "organisations": organisations,
            "justification": "stays home",
        },
        "TransferRequested": {"to_municipality": to_municipality, "basis": "family_consent"},
        "CaseTransferred": {"from_municipality": "GM0928", "to_municipality": to_municipality},
        "SignalRetracted": {
            "signal_number": signal_number,
            "reason": reason,
            "remaining": remaining,
        },
        "PersonalDataErased": {"reason": reason},
        "Assigned": {"coordinator": coordinator},
        "Restricted": {"basis": basis},
    }
    for name, own in events.items():
        attributes = common | own
        assert written(name, attributes) == pydantic_json(name, attributes), name


@given(
    needs=st.dictionaries(st.sampled_from(Need), st.sampled_from(NeedResult), max_size=4),
    score=st.integers(-1, 11),
    as_model=st.booleans(),
    on=st.dates(),
)
def test_an_evaluation_is_written_as_pydantic_writes_it(
    needs: dict[Need, NeedResult], score: int, as_model: bool, on: date
) -> None:
    values = dict.fromkeys(HealthScores.model_fields, 5) | {"participation": score}
    scores: Any = values
    if as_model and 0 <= score <= 10:
        scores = HealthScores(**values)
    attributes = {
        "actor": actor("o", "coordinator", ""),
        "occurred_at": datetime(2026, 3, 1, 10, tzinfo=UTC),
        "on": on,
        "needs": needs,
        "scores": scores,
        "next_step": NextStep.CONTINUE,
    }
    assert written("Evaluated", attributes) == pydantic_json("Evaluated", attributes)


def test_what_does_not_fit_is_refused_in_pydantics_words() -> None:
    attributes = {
        "actor": actor("o", "coordinator", ""),
        "occurred_at": datetime(2026, 3, 1, 10, tzinfo=UTC),
        "meldcode_step": "consult",
        "legal_basis": "x" * 201,
    }
    with pytest.raises(ValidationError, match="legal_basis"):
        published_json("Escalated", attributes)
    with pytest.raises(InvalidEventError, match="no published form"):
        published_json("Unheard", attributes)
    # a model's own validator refuses in words too (a list in a list is no field's name)
    corrected = attributes | {"fields": [["note"]], "cause": "correction"}
    with pytest.raises(ValidationError, match="fields"):
        published_json("PersonalDetailsCorrected", corrected)


@functools.cache
def one_of_each_kind() -> list[tuple[str, dict[str, Any]]]:
    """The attributes of the first stored event of each kind in a seeded scenario."""
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    app = referrals(clock)
    play(app, clock, seed=3, steps=300)
    first: dict[str, dict[str, Any]] = {}
    for n in notifications(app):
        if is_referral(n):
            event = app.mapper.to_domain_event(n)
            first.setdefault(type(event).__name__, dict(vars(event)))
    return sorted(first.items())


any_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=10)
    | st.binary(max_size=4)
    | st.dates()
    | times
    | st.uuids()
    | st.sampled_from([*RiskFactor, *Urgency, *Phase, *NextStep]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=5,
)


def places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a value: each key of a dict, each item of a list or tuple."""
    found = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*at, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += places(item, (*at, index))
    return found


def put(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    if isinstance(value, dict):
        return {**value, at[0]: put(value[at[0]], at[1:], new)}
    items = list(value)
    items[at[0]] = put(items[at[0]], at[1:], new)
    return type(value)(items) if isinstance(value, tuple) else items


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_value_anywhere_in_any_kind_of_event_is_written_or_refused_as_pydantic_does(
    data: st.DataObject,
) -> None:
    name, attributes = data.draw(st.sampled_from(one_of_each_kind()))
    at = data.draw(st.sampled_from(places(attributes)))
    changed = put(attributes, at, data.draw(any_value))
    assert written(name, changed) == pydantic_json(name, changed)
