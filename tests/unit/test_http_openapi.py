"""docs/openapi.json is the document the code generates, and it never offers a BSN."""

from __future__ import annotations

import json
from pathlib import Path

from ks_engine.cli.docs import openapi_json

ROOT = Path(__file__).resolve().parents[2]


def test_the_saved_openapi_document_is_current() -> None:
    saved = (ROOT / "docs/openapi.json").read_text()
    assert saved == openapi_json(), "docs/openapi.json is out of date: run `ks docs write`"


def test_only_the_signal_request_mentions_a_bsn() -> None:
    doc = json.loads(openapi_json())
    holders = [
        name for name, schema in doc["components"]["schemas"].items() if "bsn" in json.dumps(schema)
    ]
    # Request bodies only: the signal's person and household members, a birth.
    assert holders == ["BirthIn", "ChildPersonIn", "PersonIn"]
    responses = json.dumps(
        [op["responses"] for path in doc["paths"].values() for op in path.values()]
    )
    for holder in [*holders, "SignalIn"]:
        assert holder not in responses
