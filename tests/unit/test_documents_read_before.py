"""A view's stored documents are read only for cases it may hold a row of: not for a case whose
first event in the batch opens it (version 1). Read from parsed events by the projectors
(``projections.store.stored_before``) and from the stream's bytes by a rebuild
(``projections.partition.stored_before``, with ``version_of``); a worker refuses a message
whose bytes said "opened" while its parsed event says otherwise."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections import partition, store
from projections.errors import InvalidEventError
from projections.event import ReferralEvent, envelope_json, parse_event
from projections.partition import Message, fold_part, version_of
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play, published_messages, referrals

versions = st.integers(1, 10**6)
texts = st.text(max_size=40)
AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NO_DATA: Any = None  # which cases are read depends on their ids and versions alone


def relay_message(case_id: str, version: int, data: dict[str, Any]) -> bytes:
    """A message as the relay writes it (``envelope_json``), with ``data`` as its data."""
    payload, _ = envelope_json(
        orjson.dumps(data),
        AT,
        name="Signalled",
        case_id=case_id,
        municipality="GM0928",
        version=version,
        position=version,
        through=version,
    )
    return payload


# Data that says "caseversion" itself, as a key or in a text, in the relay's layout or not.
misleading = st.dictionaries(
    st.sampled_from(["caseversion", "note", "subject", "data"]),
    st.one_of(versions, texts, st.just('"caseversion":1,')),
    max_size=4,
)


@given(case_id=texts, version=versions, data=misleading)
def test_the_version_read_from_the_relay_s_bytes_is_the_parsed_one(
    case_id: str, version: int, data: dict[str, Any]
) -> None:
    raw = relay_message(case_id, version, data)
    assert version_of(raw) == orjson.loads(raw)["caseversion"] == version


@given(version=versions, data=misleading, order=st.randoms(use_true_random=False))
def test_the_version_of_a_message_in_another_layout_is_the_parsed_one(
    version: int, data: dict[str, Any], order: random.Random
) -> None:
    fields: list[tuple[str, Any]] = [
        ("subject", "c-1"),
        ("caseversion", version),
        ("data", data),
        ("type", "x"),
    ]
    order.shuffle(fields)
    assert version_of(orjson.dumps(dict(fields))) == version


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1]", b'{"caseversion":"1"}', b'{"caseversion":true}', b"{}"],
)
def test_a_message_without_a_readable_version_has_version_0(raw: bytes) -> None:
    assert version_of(raw) == 0


histories = st.lists(st.tuples(st.sampled_from("abcde"), versions), max_size=30)


def expected(history: list[tuple[str, int]]) -> set[str]:
    """The cases whose first event in ``history`` is not the case's first (version 1)."""
    first: dict[str, int] = {}
    for case_id, version in history:
        first.setdefault(case_id, version)
    return {case_id for case_id, version in first.items() if version != 1}


@given(histories)
def test_a_rebuild_reads_documents_of_every_case_but_those_its_part_opens(
    history: list[tuple[str, int]],
) -> None:
    messages: list[Message] = [
        ("ks.events.GM0928.Signalled", relay_message(case_id, version, {}), seq)
        for seq, (case_id, version) in enumerate(history, start=1)
    ]
    assert partition.stored_before(messages) == expected(history)


@given(histories)
def test_a_projector_reads_documents_of_every_case_but_those_its_batch_opens(
    history: list[tuple[str, int]],
) -> None:
    events = [
        ReferralEvent(seq, f"e-{seq}", "Any", case_id, "GM0928", version, seq, seq, NO_DATA)
        for seq, (case_id, version) in enumerate(history, start=1)
    ]
    assert set(store.stored_before(events)) == expected(history)


def test_every_case_the_stream_opens_is_read_for_none_of_its_first_events(
    clock: FixedClock,
) -> None:
    app = referrals(clock)
    play(app, clock, seed=3, steps=120)
    messages = published_messages(app)
    opened = {m for m in messages if orjson.loads(m[1])["type"].endswith(".Signalled.v1")}
    assert opened, "the scenario opened no case"
    for message in messages:
        was_read = partition.stored_before([message])
        assert was_read == (set() if message in opened else {orjson.loads(message[1])["subject"]})


class _Nothing:
    name = "nothing"
    select = "SELECT case_id, doc FROM nothing WHERE case_id IN ({})"

    def fold(self, stored: Any, events: Any) -> store.Folded:
        return store.Folded([], {})


def test_a_worker_refuses_a_message_whose_bytes_and_parse_disagree_on_opening_its_case(
    clock: FixedClock,
) -> None:
    # Two "caseversion" attributes: the bytes read the first (1: "opened, read nothing"),
    # the parser the last. Its documents were not read, so it must not be folded.
    app = referrals(clock)
    play(app, clock, seed=3, steps=60)
    later = next(m for m in published_messages(app) if orjson.loads(m[1])["caseversion"] > 1)
    subject, raw, seq = later
    version = orjson.loads(raw)["caseversion"]
    forged = raw.replace(
        b'"caseversion":%d,' % version, b'"caseversion":1,"caseversion":%d,' % version, 1
    )
    assert version_of(forged) == 1
    assert parse_event(forged, seq).version == version
    assert fold_part([_Nothing()], {"nothing": {}}, [(subject, raw, seq)]).through > 0
    with pytest.raises(InvalidEventError, match=f"stream message {seq}"):
        fold_part([_Nothing()], {"nothing": {}}, [(subject, forged, seq)])
