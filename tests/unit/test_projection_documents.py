"""The views fold plain JSON documents: each one, after every event, is exactly what its model
would write of itself (so readers parse it back unchanged, and rows written before the plain
folds are the same bytes as rows written after)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from domain.deadlines import ServiceLevels
from ks_engine.clock import AMSTERDAM
from projections import case_doc, monitoring, work_queue
from projections.case_view import CaseView
from projections.monitoring import CaseFacts
from projections.store import plain
from projections.work_queue import WorkItem
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play, published, referrals

LEVELS = ServiceLevels()


def canonical(model: type[BaseModel], doc: dict[str, Any]) -> None:
    written = orjson.dumps(doc).decode()
    assert written == model.model_validate(doc).model_dump_json()
    assert plain(model, written) == doc


@pytest.mark.parametrize(("seed", "zone"), [(31, UTC), (32, AMSTERDAM), (33, AMSTERDAM)])
def test_every_folded_document_is_what_its_model_writes(seed: int, zone: Any) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=zone))
    app = referrals(clock)
    play(app, clock, seed=seed, steps=250)
    events = published(app)
    views: dict[str, dict[str, Any]] = {}
    rows: dict[str, dict[str, Any] | None] = {}
    facts: dict[str, dict[str, Any]] = {}
    for event in events:
        view = case_doc.fold(views.get(event.case_id), event)
        if view is not None:
            views[event.case_id] = view
            canonical(CaseView, view)
        rows[event.case_id] = row = work_queue.fold(rows.get(event.case_id), event, LEVELS)
        if row is not None:
            canonical(WorkItem, row)
        known, _, _ = monitoring.fold(facts.get(event.case_id), event)
        if known is not None:
            facts[event.case_id] = known
            canonical(CaseFacts, known)
    names = {e.name for e in events}
    assert len(names) > 20  # the histories reach (nearly) every kind of event
    assert views
    assert facts
    assert any(rows.values())


def test_a_document_stored_before_a_field_existed_is_read_with_the_field() -> None:
    # A work-queue row written before rows had an owner (no "assignee" key)
    clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=AMSTERDAM))
    app = referrals(clock)
    play(app, clock, seed=34, steps=20)
    first = published(app)[0]
    row = work_queue.fold(None, first, LEVELS)
    assert row is not None
    older = {k: v for k, v in row.items() if k != "assignee"}
    read = plain(WorkItem, orjson.dumps(older))
    assert read == row
    assert list(read) == list(WorkItem.model_fields)
