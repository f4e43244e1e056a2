"""The household block of the signal contract: optional, validated, BSNs never repeated."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from entrypoints.cli.main import app
from ks_engine.clock import now
from ks_engine.signal_contract import (
    Rejection,
    RejectionCode,
    data_json_schema,
    example_signal,
    parse_signal,
    to_domain,
)
from ks_engine.signal_rules import SignalRules
from tests.referral_builders import BSN_A, BSN_B, person

CHILD = "100000009"


def parse(doc: dict[str, Any]) -> Any:
    rules = SignalRules.serving(["GM0928"], now)
    return parse_signal(json.dumps(doc).encode(), "ks.signals.GM0928", rules=rules)


def test_a_version_1_signal_without_household_is_still_valid() -> None:
    signal, _ = to_domain(parse(example_signal(BSN_A)), person)
    assert signal.household == ()
    assert signal.referral_consent is None


def test_household_members_become_pseudonyms_and_sealed_details() -> None:
    doc = example_signal(BSN_A, co_parent_bsn=BSN_B)
    doc["data"]["person"].update(phone="+31 6 12345678", address="Hoofdstraat 1, Kerkrade")
    doc["data"]["household"]["children"].append(
        {"person": {"bsn": CHILD, "birth_date": "2024-05-01", "name": "Sem"}}
    )
    signal, _ = to_domain(parse(doc), person)
    assert [(m.role.value, m.pseudonym) for m in signal.household] == [
        ("co_parent", person(BSN_B)),
        ("unborn", None),
        ("child", person(CHILD)),
    ]
    assert signal.personal.phone == "+31 6 12345678"
    assert [d.name for d in signal.personal.household] == [None, "Sem"]
    assert signal.referral_consent is not None
    assert signal.referral_consent.given_by.value == "both"
    assert BSN_B not in signal.model_dump_json()


@pytest.mark.parametrize(
    "child",
    [{}, {"due_date": "2027-01-01", "person": {"bsn": CHILD, "birth_date": "2024-05-01"}}],
)
def test_a_child_is_either_a_person_or_a_due_date(child: dict[str, Any]) -> None:
    doc = example_signal(BSN_A, co_parent_bsn=BSN_B)
    doc["data"]["household"]["children"] = [child]
    with pytest.raises(Rejection) as refused:
        parse(doc)
    assert refused.value.code is RejectionCode.SCHEMA_VIOLATION
    assert "either a person" in refused.value.reason


def test_a_mistyped_co_parent_bsn_is_an_invalid_bsn_without_the_number() -> None:
    doc = example_signal(BSN_A, co_parent_bsn="123456789")
    with pytest.raises(Rejection) as refused:
        parse(doc)
    assert refused.value.code is RejectionCode.INVALID_BSN
    assert "data.household.co_parent.bsn" in refused.value.reason
    assert "123456789" not in refused.value.reason


def test_ks_signal_example_household_prints_a_valid_signal_with_a_co_parent() -> None:
    out = CliRunner().invoke(app, ["signal", "example", "--household"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    jsonschema.validate(doc["data"], data_json_schema())
    parsed = parse(doc)
    assert parsed.data.household is not None
    assert parsed.data.household.co_parent is not None
    assert parsed.data.household.co_parent.bsn != parsed.data.person.bsn
