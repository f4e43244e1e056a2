"""The relay publishes each case event under the case's municipality at that event's version.
Where the window being translated does not tell (the case's first event and moves came before
it), it reads that from the case's first event and its moves (``CaseTransferred``) alone: the
same municipality as the whole case replayed to that version, for every event of many cases
moving between municipalities."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.nats.relay_translator import EventTranslator, RelayError, is_referral
from tests.unit.test_audit_quick_summary import scenario


@pytest.mark.parametrize("encrypted", [False, True])
def test_the_municipality_read_from_first_event_and_moves_is_the_replayed_cases(
    encrypted: bool,
) -> None:
    app, events = scenario(encrypted)
    translator = EventTranslator(app)
    moved = set()
    for n in events:
        case_id, version = n.originator_id, n.originator_version
        replayed: Any = app.repository.get(case_id, version=version)
        assert translator._municipality_at(case_id, version) == replayed.municipality
        if is_referral(n):  # and each event is published under it
            subject = translator.translate(n, n.id).subject
            assert subject.split(".")[2] == replayed.municipality
        if n.topic.endswith(".CaseTransferred"):
            moved.add(case_id)
    assert moved  # cases did move: the moves were read, not only the first events


def test_every_message_is_published_under_the_same_municipality_without_memory() -> None:
    app, events = scenario(False)
    remembering, forgetting = EventTranslator(app), EventTranslator(app, cache_size=0)
    for n in events:
        expected = remembering.translate(n, n.id)
        forgetting._municipality.clear()
        assert forgetting.translate(n, n.id) == expected


def test_a_case_without_a_first_event_is_refused() -> None:
    app, events = scenario(False)
    later = next(n for n in events if n.originator_version > 1)
    translator = EventTranslator(app)
    with pytest.raises(RelayError, match="no first event"):
        translator._municipality_at(later.originator_id, 0)
