"""The work queue deletes rows (its own, and the transfer requests kept beside them) only of
cases that had a work-queue row before the batch: a case opened in the batch has none, and a
transfer request is only ever written beside its case's work-queue row."""

from __future__ import annotations

import pytest

from domain.deadlines import ServiceLevels
from projections.work_queue_store import WorkQueueProjection
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play, published, referrals

DELETES = ("DELETE FROM work_queue", "DELETE FROM transfer_requests")


@pytest.mark.parametrize("size", [1, 7, 50])
def test_rows_are_deleted_only_for_cases_that_had_a_work_queue_row(
    clock: FixedClock, size: int
) -> None:
    app = referrals(clock)
    play(app, clock, seed=3, steps=300)
    events = published(app)
    view = WorkQueueProjection(ServiceLevels())
    stored: dict[str, str] = {}  # what the table holds between batches
    deleted: dict[str, int] = dict.fromkeys(DELETES, 0)
    for start in range(0, len(events), size):
        batch = events[start : start + size]
        folded = view.fold({c: stored[c] for c in {e.case_id for e in batch} if c in stored}, batch)
        for sql, rows in folded.writes:
            if sql.startswith(DELETES):
                assert {row[0] for row in rows} <= stored.keys(), sql
                deleted[sql[: sql.index(" WHERE")]] += len(rows)
        for case_id, doc in folded.docs.items():
            if doc is None:
                stored.pop(case_id, None)
            else:
                stored[case_id] = doc
    # The scenario closes cases and answers transfers: the deletes that are due still happen.
    assert all(deleted.values()), deleted
