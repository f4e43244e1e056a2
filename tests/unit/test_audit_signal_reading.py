"""A signal's summary fields parsed alone (``signal_reading``) give the summary hash the view
of the whole document gives, for the stored signals and for any document in their place:
another type, a transcoded object, a missing or an extra field anywhere; where they cannot
tell, the view reads it."""

from __future__ import annotations

import json
from typing import Any

import orjson
from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_engine.application import Referrals
from ks_engine.audit.link_checks import LinkChecks
from ks_engine.audit.signal_reading import SIGNAL_EVENTS, signal_attributes
from tests.unit.test_audit_quick_summary import scenario


def signals() -> tuple[Referrals, list[Notification]]:
    app, events = scenario(False)  # plain JSON in the store: documents to change
    return app, [n for n in events if n.topic.rpartition(".")[2] in SIGNAL_EVENTS]


def summary_hashes(app: Referrals, n: Notification, state: bytes) -> tuple[Any, Any]:
    """The quick summary hash of ``state`` in ``n``'s place: with the signal's fields parsed
    alone, and from the view of the whole document only."""
    typed, viewed = LinkChecks(app, None), LinkChecks(app, None)  # type: ignore[arg-type]
    viewed._reader._datetime = None  # the view reads every event
    aggregate = str(n.originator_id)
    for checks in (typed, viewed):
        checks._remember(aggregate, "GM0928")  # the case's municipality, as the walk knows it
    return tuple(  # type: ignore[return-value]
        c._quick_summary_hash(n.topic, state, aggregate, n.originator_version, aggregate)
        for c in (typed, viewed)
    )


def test_the_stored_signals_are_read_alone_with_the_summary_hash_of_the_view() -> None:
    app, events = signals()
    assert {n.topic.rpartition(".")[2] for n in events} == set(SIGNAL_EVENTS)
    datetimes = app.mapper.transcoder.names["datetime_iso"]  # type: ignore[attr-defined]
    for n in events:
        assert signal_attributes(n.state, datetimes.decode) is not None  # the typed path
        typed, viewed = summary_hashes(app, n, n.state)
        assert typed == viewed is not None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.fixed_dictionaries(
        {
            "_type_": st.sampled_from(["datetime_iso", "date_iso", "uuid_hex", "other"]),
            "_data_": st.sampled_from(["2026-11-02T09:30:00+01:00", "2026-11-02", "x", ""])
            | st.integers(),
        }
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: each key of an object, each item of a list."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*at, index))
    return found


def changed(document: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value if how == "replace" else document
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        copy = dict(document)
        if not rest and how == "delete":
            copy.pop(head)
        elif not rest and how == "add":
            copy[f"{head}_more"] = value
        else:
            copy[head] = changed(document[head], rest, how, value)
        return copy
    copy_list = list(document)
    copy_list[head] = changed(document[head], rest, how, value)
    return copy_list


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_signal_document_gives_the_summary_hash_of_the_view(data: st.DataObject) -> None:
    app, events = signals()
    n = data.draw(st.sampled_from(events))
    document = orjson.loads(n.state)
    path = data.draw(st.sampled_from(paths(document)))
    how = data.draw(st.sampled_from(["replace", "delete", "add"]))
    state = json.dumps(changed(document, path, how, data.draw(json_values))).encode()
    typed, viewed = summary_hashes(app, n, state)
    assert typed == viewed
