"""The published contract: JSON Schema of signal data and the AsyncAPI 3.0 document.

Both are generated from the code, written by `ks docs write` and checked by `ks docs check`.
"""

from __future__ import annotations

from ks_engine.asyncapi_doc import EVENT_NAMES, asyncapi_document, asyncapi_yaml
from ks_engine.asyncapi_messages import EXAMPLE_BSN, EXAMPLE_CASE_ID, error_codes_description
from ks_engine.schema_docs import (
    SCHEMA_PATH,
    SUPPORT_STARTED_SCHEMA_PATH,
    signal_schema_json,
    support_started_schema_json,
)

__all__ = [
    "EVENT_NAMES",
    "EXAMPLE_BSN",
    "EXAMPLE_CASE_ID",
    "SCHEMA_PATH",
    "SUPPORT_STARTED_SCHEMA_PATH",
    "asyncapi_document",
    "asyncapi_yaml",
    "error_codes_description",
    "signal_schema_json",
    "support_started_schema_json",
]
