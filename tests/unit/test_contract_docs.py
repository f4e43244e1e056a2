"""The published contract is current and its examples are valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from entrypoints.cli.docs import generated_documents
from ks_engine.clock import now
from ks_engine.contract_docs import EXAMPLE_BSN, SCHEMA_PATH
from ks_engine.signal_contract import RejectionCode, parse_signal
from ks_engine.signal_rules import SignalRules

ROOT = Path(__file__).resolve().parents[2]


def test_every_generated_document_is_current() -> None:
    stale = [
        rel for rel, content in generated_documents().items() if (ROOT / rel).read_text() != content
    ]
    assert stale == [], f"run `ks docs write`: {stale}"


def test_the_asyncapi_example_signal_is_accepted_by_the_intake_contract() -> None:
    doc = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    assert doc["asyncapi"] == "3.0.0"
    example = doc["components"]["messages"]["signal"]["examples"][0]["payload"]
    rules = SignalRules.serving(["GM0928"], now)
    parsed = parse_signal(json.dumps(example).encode(), "ks.signals.GM0928", rules=rules)
    assert parsed.data.person.bsn == EXAMPLE_BSN


def test_the_example_data_validates_against_the_published_json_schema() -> None:
    schema = json.loads((ROOT / SCHEMA_PATH).read_text())
    doc = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    example = doc["components"]["messages"]["signal"]["examples"][0]["payload"]
    jsonschema.validate(example["data"], schema)
    broken = dict(example["data"], risk_factors=["not-a-factor"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_asyncapi_documents_every_subject_the_engine_uses() -> None:
    doc = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {
        "ks.signals.{municipality}",
        "ks.receipts.{municipality}.{partner}.{reference}",
        "ks.dlq.signals",
        "ks.events.{municipality}.{eventName}",
        "ks.events.checkpoints",
        "ks.feedback.{municipality}.{partner}",
    }


def test_the_readme_explains_every_rejection_code() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in RejectionCode:
        assert f"| `{code.value}` | {code.meaning} |" in readme, code


def test_asyncapi_names_every_published_referral_event() -> None:
    from ks_engine.contract_docs import EVENT_NAMES
    from projections.event import DATA_MODELS

    assert set(EVENT_NAMES) == set(DATA_MODELS)


def test_the_feedback_examples_fit_the_published_payload() -> None:
    doc = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    message = doc["components"]["messages"]["feedback"]
    for example in message["examples"]:
        jsonschema.validate(example["payload"], message["payload"])
    broken = dict(message["examples"][0]["payload"])
    broken["data"] = dict(broken["data"], note="free text")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, message["payload"])
