"""What ks-engine publishes about the signal contract: the JSON schema of ``data`` and a
complete example, used by the generated docs, the CLI, the tests and the benchmarks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ks_engine.signal_contract.models import SIGNAL_TYPE, SignalData
from projections import cloudevent as cloudevents

EXAMPLE_TIME = "2026-11-23T10:15:00+01:00"  # the time of example_signal


def data_json_schema() -> dict[str, Any]:
    """JSON Schema of ``data``, generated from the pydantic model."""
    schema = SignalData.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kansrijkestart.nl/schemas/signal-data.v1.json"
    return schema


def example_signal(
    bsn: str,
    *,
    municipality: str = "GM0928",
    source: str = "https://verloskunde-parkstad.nl",
    event_id: str = "2026-000123",
    due_date: dt.date | None = None,
    co_parent_bsn: str | None = None,
) -> dict[str, Any]:
    """A complete, valid signal as a partner publishes it (JSON-ready); with
    ``co_parent_bsn`` it names the household: a co-parent and the expected child."""
    due = due_date or dt.date(2027, 4, 15)
    data: dict[str, Any] = {
        "municipality": municipality,
        "person": {"bsn": bsn},
        "reporter": {"organisation": source, "role": "midwife"},
        "phase": {"phase": "pregnancy", "date": due.isoformat()},
        "risk_factors": ["debts", "stress"],
        "urgency": "soon",
        "note": "Verbrede risicosignalering: zorgen over geldzaken en spanning thuis.",
    }
    if co_parent_bsn is not None:
        data["household"] = {
            "co_parent": {"bsn": co_parent_bsn},
            "children": [{"due_date": due.isoformat()}],
        }
        data["referral_consent"] = {"given_by": "both", "given_on": "2026-11-20"}
    time = dt.datetime.fromisoformat(EXAMPLE_TIME)
    return cloudevents.structured(SIGNAL_TYPE, source, event_id, time, data)
