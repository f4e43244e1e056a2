"""``uuid5_text`` is ``str(uuid5(namespace, name))`` for any namespace and name; the ids made
with it (events' ids: ``test_projection_event``) keep the values they were published with."""

from __future__ import annotations

from uuid import UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from domain.signal_record import signal_record_id, signal_reference
from domain.uuid_text import uuid5_text
from ks_engine.feedback_contract import feedback_id


@given(namespace=st.uuids(), name=st.text())
def test_the_text_is_the_standard_librarys(namespace: UUID, name: str) -> None:
    try:
        expected = str(uuid5(namespace, name))
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
        try:
            uuid5_text(namespace, name)
        except UnicodeEncodeError:
            return
        raise AssertionError("a name without UTF-8 gave an id") from None
    assert uuid5_text(namespace, name) == expected
    assert uuid5_text(namespace.bytes, name) == expected  # the namespace as its bytes


@given(event=st.uuids(), source=st.text(min_size=1))
def test_a_feedback_id_keeps_its_published_value(event: UUID, source: str) -> None:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in source):
        return  # a source without UTF-8 never gets this far (signals are UTF-8 JSON)
    namespace = UUID("c3b4e1f2-7a9d-4c55-8e21-5f0a9b6d2e13")
    assert feedback_id(str(event), source) == str(uuid5(namespace, f"{event}:{source}"))


@given(key=st.text(min_size=1))
def test_a_signals_reference_is_the_text_of_its_records_id(key: str) -> None:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in key):
        return  # a key without UTF-8 never gets this far (signals are UTF-8 JSON)
    assert signal_reference(key) == str(signal_record_id(key))
