"""The work queue is answered without the personal-data filter the case view goes through, so
its entries must not be able to carry a field the filter would remove."""

from typing import Any

from adapters.http.routers.cases import PERSONAL_FIELDS
from projections.work_queue_store import WorkQueueEntry


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


def test_work_queue_entries_have_no_personal_fields_at_any_depth() -> None:
    names = _property_names(WorkQueueEntry.model_json_schema())
    assert {"case_id", "risk_factors", "next_deadline", "step"} <= names  # the walk sees nesting
    assert names.isdisjoint(PERSONAL_FIELDS)
