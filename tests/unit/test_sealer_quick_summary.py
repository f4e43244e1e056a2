"""The sealer reads a case event's summary from its decoded JSON as ``ks audit verify`` does
(``quick_summary``), not from the domain event object: the summary hash it seals is byte for
byte the one of the event object, for every kind of case event and any values in it; an event
the quick reading cannot read is read by eventsourcing's mapper as before, and one nothing can
read still stops the sealing."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_engine.application import Referrals
from ks_engine.audit import chain
from ks_engine.audit.sealer import Sealer, SealingError
from tests.unit.test_audit_quick_summary import one_of_each, scenario, with_values


def sealer(app: Referrals) -> Sealer:
    return Sealer(app, None, Ed25519PrivateKey.generate())  # type: ignore[arg-type]  # no chain


def decoded_hash(s: Sealer, n: Notification) -> str:
    """The summary hash of the domain event object the mapper decodes (the sealer's own
    reading before the quick one)."""
    return chain.summary_hash(s._summary(n))


@pytest.mark.parametrize("encrypted", [False, True])
def test_every_case_event_is_sealed_with_the_summary_hash_of_its_event_object(
    encrypted: bool,
) -> None:
    app, events = scenario(encrypted)
    quick, decoded = sealer(app), sealer(app)
    read_quickly = 0
    for n in events:  # in log order: each case's first event before its later ones
        fast = quick._quick_summary_hash(n)
        assert fast == decoded_hash(decoded, n), n.topic
        assert quick._summary_hash(n) == fast
        read_quickly += fast is not None
    assert read_quickly == len(events)  # the quick reading is taken for every one


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.data())
def test_any_values_in_any_kind_of_case_event_are_sealed_with_the_same_summary_hash(
    encrypted: bool, data: st.DataObject
) -> None:
    app, _ = scenario(encrypted)
    m = with_values(app, data.draw(st.sampled_from(one_of_each(encrypted))), data)
    quick, decoded = sealer(app), sealer(app)
    if m.originator_version > 1:  # the case's municipality, as sealing its first event left it
        municipality = data.draw(st.sampled_from(["GM0928", "GM0917", "GM0363"]))
        quick._remember(str(m.originator_id), municipality)
        decoded._remember(str(m.originator_id), municipality)
    expected = decoded_hash(decoded, m)
    assert quick._quick_summary_hash(m) in (expected, None)
    assert quick._summary_hash(m) == expected


def test_an_event_nothing_can_read_stops_the_sealing() -> None:
    app, events = scenario(False)
    n = events[0]
    broken = Notification(
        id=n.id,
        originator_id=n.originator_id,
        originator_version=n.originator_version,
        topic=n.topic,
        state=n.state[: len(n.state) // 2],
    )
    s = sealer(app)
    assert s._quick_summary_hash(broken) is None
    with pytest.raises(SealingError, match="cannot be read"):
        s._summary_hash(broken)
