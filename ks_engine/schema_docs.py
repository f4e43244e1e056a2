"""The JSON Schemas of signal data and support-started data, published under docs/schemas/."""

from __future__ import annotations

import json

from ks_engine.signal_contract import data_json_schema
from ks_engine.support_start_contract import data_json_schema as support_started_schema

SCHEMA_PATH = "docs/schemas/signal-data.v1.json"
SUPPORT_STARTED_SCHEMA_PATH = "docs/schemas/support-started-data.v1.json"


def signal_schema_json() -> str:
    """docs/schemas/signal-data.v1.json, the JSON Schema of a signal's data."""
    return json.dumps(data_json_schema(), indent=2, ensure_ascii=False) + "\n"


def support_started_schema_json() -> str:
    """docs/schemas/support-started-data.v1.json, the JSON Schema of its data."""
    return json.dumps(support_started_schema(), indent=2, ensure_ascii=False) + "\n"
