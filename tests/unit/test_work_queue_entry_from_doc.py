"""A work-queue entry read from its stored row in one step equals the entry read the long way
(the row validated as a WorkItem, then the entry built field by field, as the queue did before
``from_doc``), for any row the projection can write, older rows without the columns added
later included, and on any day. A page written as JSON straight from its rows is, byte for
byte, the answer pydantic wrote from the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from adapters.http.schemas.queries import WorkQueueOut
from domain.expiry import ExpiryRule
from domain.lifecycle import State
from domain.values import Urgency
from projections.work_queue import WorkItem
from projections.work_queue_store import Deadline, StoredPage, WorkQueueEntry

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))])
_MOMENTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=_ZONES
)
_DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31))
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_ITEMS = st.builds(
    WorkItem,
    case_id=st.uuids().map(str),
    municipality=st.from_regex(r"GM\d{4}", fullmatch=True),
    state=st.sampled_from(State),
    signalled_at=_MOMENTS,
    urgency=st.sampled_from(Urgency),
    risk_factors=st.lists(_WORDS, max_size=4).map(tuple),
    signal_count=st.integers(min_value=1, max_value=50),
    milestones=st.dictionaries(_WORDS, _MOMENTS, max_size=3),
    last_activity_at=_MOMENTS,
    version=st.integers(min_value=1, max_value=500),
    deadline_step=st.none() | _WORDS,
    deadline_due=st.none() | _DAYS,
    deadline_hold=st.none() | st.just({"kind": "suspended"}),
    suspended_until=st.none() | _DAYS,
    restricted=st.booleans(),
    transfer=st.none()
    | st.fixed_dictionaries({"to_municipality": st.from_regex(r"GM\d{4}", fullmatch=True)}),
    assignee=st.none() | _WORDS,
)
_ADDED_LATER = ["deadline_hold", "suspended_until", "restricted", "transfer", "assignee"]


def _the_long_way(item: WorkItem, today: date, rule: ExpiryRule) -> WorkQueueEntry:
    """The entry built field by field from a validated WorkItem (the reference)."""
    due = item.deadline_due
    last = item.last_activity_at.date()
    return WorkQueueEntry(
        case_id=item.case_id,
        municipality=item.municipality,
        state=item.state.value,
        signalled_at=item.signalled_at,
        age_days=(today - item.signalled_at.date()).days,
        risk_factors=list(item.risk_factors),
        urgency=item.urgency.value,
        signal_count=item.signal_count,
        next_deadline=(
            Deadline(step=item.deadline_step or "", due=due, suspended_until=item.suspended_until)
            if due
            else None
        ),
        overdue=item.is_overdue(today),
        last_activity_at=item.last_activity_at,
        version=item.version,
        expires_on=rule.expires_on(last),
        expiring=rule.is_expiring(last, today),
        restricted=item.restricted,
        transfer_to=item.transfer["to_municipality"] if item.transfer else None,
        assignee=item.assignee,
    )


@settings(max_examples=300, deadline=None)
@given(
    item=_ITEMS,
    today=_DAYS,
    dropped=st.lists(st.sampled_from(_ADDED_LATER), unique=True),
    rule=st.builds(
        ExpiryRule,
        months=st.integers(min_value=3, max_value=36),
        warning_months=st.integers(min_value=0, max_value=2),
    ),
)
def test_an_entry_from_its_row_equals_the_entry_from_the_validated_row(
    item: WorkItem, today: date, dropped: list[str], rule: ExpiryRule
) -> None:
    row = item.model_dump(mode="json")
    for name in dropped:  # a row stored before the column existed
        row.pop(name)
    doc = orjson.dumps(row).decode()

    fast = WorkQueueEntry.from_doc(doc, today, rule)
    slow = _the_long_way(WorkItem.model_validate_json(doc), today, rule)

    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()


_RULES = st.builds(
    ExpiryRule,
    months=st.integers(min_value=3, max_value=36),
    warning_months=st.integers(min_value=0, max_value=2),
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(_ITEMS, max_size=6),
    today=_DAYS,
    dropped=st.lists(st.sampled_from(_ADDED_LATER), unique=True),
    next_cursor=st.none() | st.text(max_size=20),
    rule=_RULES,
)
def test_a_page_written_from_its_rows_is_the_answer_the_models_wrote(
    items: list[WorkItem],
    today: date,
    dropped: list[str],
    next_cursor: str | None,
    rule: ExpiryRule,
) -> None:
    docs = []
    for item in items:
        row = item.model_dump(mode="json")
        for name in dropped:
            row.pop(name)
        docs.append(orjson.dumps(row).decode())
    page = StoredPage(docs, today, next_cursor, rule)

    from_models = page.entries()
    answered = TypeAdapter(WorkQueueOut).dump_json(
        WorkQueueOut(items=from_models.items, next_cursor=from_models.next_cursor)
    )

    assert page.json() == answered
    assert WorkQueueOut.model_validate_json(page.json()).items == from_models.items
