"""docs/openapi.json is the document the code generates, and it never offers a BSN."""

from __future__ import annotations

import json
import re
from pathlib import Path

from entrypoints.cli.docs import openapi_json
from ks_engine.signal_contract import SIGNAL_TYPE

ROOT = Path(__file__).resolve().parents[2]


def test_the_saved_openapi_document_is_current() -> None:
    saved = (ROOT / "docs/openapi.json").read_text()
    assert saved == openapi_json(), "docs/openapi.json is out of date: run `ks docs write`"


def test_only_the_signal_request_mentions_a_bsn() -> None:
    doc = json.loads(openapi_json())
    holders = [
        name for name, schema in doc["components"]["schemas"].items() if "bsn" in json.dumps(schema)
    ]
    # Request bodies only: the signal's person and household members, a birth, a search, an
    # access request.
    assert holders == ["AccessRequestIn", "BirthIn", "CaseSearchIn", "ChildPersonIn", "PersonIn"]
    responses = json.dumps(
        [op["responses"] for path in doc["paths"].values() for op in path.values()]
    )
    for holder in [*holders, "SignalIn"]:
        assert holder not in responses


def test_the_signal_request_is_as_strict_as_the_server() -> None:
    doc = json.loads(openapi_json())
    body = doc["paths"]["/signals"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SignalIn"
    }
    schemas = doc["components"]["schemas"]
    envelope = schemas["SignalIn"]["properties"]
    assert envelope["specversion"]["const"] == "1.0"
    assert envelope["type"]["const"] == SIGNAL_TYPE
    assert {"const": "application/json"} in [
        {k: v for k, v in option.items() if k == "const"}
        for option in envelope["datacontenttype"]["anyOf"]
    ]
    municipality = schemas["SignalData"]["properties"]["municipality"]["pattern"]
    assert municipality == "^GM[0-9]{4}$"
    assert re.fullmatch(municipality[1:-1], "GM0928")
    assert schemas["PersonIn"]["properties"]["bsn"]["pattern"] == "^[0-9]{9}$"
