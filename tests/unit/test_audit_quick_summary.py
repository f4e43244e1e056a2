"""``ks audit verify`` reads a case event's summary from its decoded JSON, without building the
domain event object (``quick_summary``): the summary hash is byte for byte the one of the
event object eventsourcing's mapper decodes, for every kind of case event and for any text,
time, date, number and id in it, with the event store's cipher or without; the chain depends
on it (every sealed summary hash would fail to verify otherwise)."""

from __future__ import annotations

import functools
from base64 import b64encode
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_engine.application import Referrals
from ks_engine.audit.link_checks import LinkChecks
from ks_engine.audit.summary import is_case_event
from projections.event import DATA_MODELS
from tests.conftest import AMSTERDAM, FixedClock
from tests.unit.test_projection_scenario import notifications, play, referrals

ENCRYPTED = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "CIPHER_TOPIC": "adapters.persistence.cipher:AesGcmCipher",
    "CIPHER_KEY": b64encode(bytes(range(32))).decode(),
}


@functools.cache
def scenario(encrypted: bool) -> tuple[Referrals, tuple[Notification, ...]]:
    """Seeded traffic of many cases: every kind of case event, in log order."""
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    app = referrals(clock, ENCRYPTED if encrypted else None)
    play(app, clock, seed=3, steps=300)
    return app, tuple(n for n in notifications(app) if is_case_event(n.topic))


def checks(app: Referrals) -> LinkChecks:
    return LinkChecks(app, None)  # type: ignore[arg-type]  # the chain is not asked


def test_every_case_event_has_the_summary_hash_of_its_event_object() -> None:
    for encrypted in (False, True):
        app, events = scenario(encrypted)
        quick, decoded = checks(app), checks(app)
        names, read_quickly = set(), 0
        for n in events:
            aggregate = str(n.originator_id)
            fast = quick._quick_summary_hash(
                n.topic, n.state, aggregate, n.originator_version, aggregate
            )
            assert fast == decoded._decoded_summary_hash(n, aggregate), n.topic
            # and as the walk and the quick scan ask for it
            assert quick._summary_hash(n, aggregate) == fast
            row = (n.id, aggregate, n.originator_version, n.topic, n.state)
            assert quick._summary_of(*row) == fast
            names.add(n.topic.rpartition(".")[2])
            read_quickly += fast is not None
        assert names >= set(DATA_MODELS)
        assert read_quickly == len(events)  # none left to the mapper: the quick path is taken


# What a case event may hold in place of each value ks-engine wrote.
zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
replacements: dict[type, st.SearchStrategy[Any]] = {
    str: st.text(),
    int: st.integers(-(2**70), 2**70),
    datetime: st.datetimes(timezones=st.none() | st.just(UTC) | zones),
    date: st.dates(),
    UUID: st.uuids(),
    bool: st.booleans(),
}


def replaced(value: Any, data: st.DataObject) -> Any:
    """``value`` with each of its leaves replaced by any other of the same type."""
    if isinstance(value, dict):
        return {k: replaced(v, data) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [replaced(v, data) for v in value]
    strategy = replacements.get(type(value))
    return value if strategy is None else data.draw(strategy)


@functools.cache
def one_of_each(encrypted: bool) -> list[Notification]:
    """The first case event of each kind, and a later event of each kind too."""
    _, events = scenario(encrypted)
    first: dict[str, Notification] = {}
    later: dict[str, Notification] = {}
    for n in events:
        (later if n.topic in first and n.originator_version > 1 else first).setdefault(n.topic, n)
    return [*first.values(), *later.values()]


def with_values(app: Referrals, n: Notification, data: st.DataObject) -> Notification:
    """The case event ``n`` holding any other values of the same types, stored as ``app``
    stores it."""
    event: Any = app.mapper.to_domain_event(n)
    ids = {"originator_id": event.originator_id, "originator_version": event.originator_version}
    changed = object.__new__(type(event))
    object.__setattr__(changed, "__dict__", replaced(vars(event), data) | ids)
    stored = app.mapper.to_stored_event(changed)
    return Notification(
        id=n.id,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
    )


def assert_same_summary_hash(encrypted: bool, n: Notification, data: st.DataObject) -> None:
    # Given the case event ``n``, holding any other values
    app, _ = scenario(encrypted)
    m = with_values(app, n, data)
    aggregate = str(m.originator_id)
    # When its summary hash is read from the JSON, and from the event object
    quick, decoded = checks(app), checks(app)
    expected = decoded._decoded_summary_hash(m, aggregate)
    if m.originator_version > 1:  # the case's municipality, as the walk remembers it
        quick._remember(aggregate, decoded._municipalities[aggregate])
    # Then both are the same, or the quick reading leaves it to the mapper
    fast = quick._quick_summary_hash(m.topic, m.state, aggregate, m.originator_version, aggregate)
    assert fast in (expected, None)
    assert quick._summary_hash(m, aggregate) == expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.data())
def test_any_values_in_any_kind_of_case_event_give_the_same_summary_hash(
    encrypted: bool, data: st.DataObject
) -> None:
    n = data.draw(st.sampled_from(one_of_each(encrypted)))
    assert_same_summary_hash(encrypted, n, data)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.data())
def test_any_values_in_a_cases_first_event_give_the_same_summary_hash(
    encrypted: bool, data: st.DataObject
) -> None:
    first = [n for n in one_of_each(encrypted) if n.originator_version == 1]
    assert_same_summary_hash(encrypted, data.draw(st.sampled_from(first)), data)
