"""Well-formed but wrong: refused by the contract with a code and the field at fault."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from ks_engine.signal_contract import (
    ParsedSignal,
    Rejection,
    RejectionCode,
    example_signal,
    parse_signal,
)
from ks_engine.signal_rules import SignalRules
from tests.strategies import bsns

TODAY = date(2026, 12, 1)
RULES = SignalRules.serving(
    ["GM0928", "GM0882", "GM0981"], lambda: datetime(2026, 12, 1, 23, 30, tzinfo=AMSTERDAM)
)
BSN = "111222333"


def parse(doc: dict[str, Any], subject: str | None = None) -> ParsedSignal | Rejection:
    try:
        return parse_signal(json.dumps(doc).encode(), subject, rules=RULES)
    except Rejection as rejection:
        return rejection


def refused(doc: dict[str, Any], code: RejectionCode) -> Rejection:
    outcome = parse(doc)
    assert isinstance(outcome, Rejection), "accepted"
    assert outcome.code is code, outcome
    return outcome


def signal(**data: Any) -> dict[str, Any]:
    doc = example_signal(BSN, due_date=TODAY + timedelta(days=100))
    doc["data"].update(data)
    return doc


@pytest.mark.parametrize("municipality", ["GM0928", "GM0882", "GM0981"])
def test_the_served_municipalities_are_taken(municipality: str) -> None:
    assert isinstance(parse(signal(municipality=municipality)), ParsedSignal)


@pytest.mark.parametrize("municipality", ["GM0917", "GM0344", "GM0000"])
def test_a_municipality_this_knooppunt_does_not_serve_is_refused(municipality: str) -> None:
    rejection = refused(signal(municipality=municipality), RejectionCode.MUNICIPALITY_NOT_SERVED)
    assert rejection.errors[0][0] == "data.municipality"
    assert "GM0928, GM0981, GM0882" not in rejection.reason  # sorted, readable
    assert "serves GM0882, GM0928, GM0981" in rejection.reason


def test_the_served_municipalities_are_the_regions_knooppunten(tmp_path: Path) -> None:
    engine = bootstrap(Settings(data_dir=tmp_path, store="memory"), configure_logs=False)
    assert engine.signal_rules().municipalities == {"GM0928", "GM0882", "GM0981"}
    region = tmp_path / "region.yaml"
    region.write_text(
        "id: test\nname: Test\nmunicipalities:\n"
        "  - {code: GM0917, name: Heerlen, knooppunt: true}\n"
        "  - {code: GM0928, name: Kerkrade}\n"
    )
    settings = Settings(data_dir=tmp_path, store="memory", region_path=region)
    assert bootstrap(settings, configure_logs=False).signal_rules().municipalities == {"GM0917"}


@given(st.integers(min_value=1, max_value=20_000))
def test_a_date_of_birth_in_the_future_is_refused(days: int) -> None:
    doc = signal(person={"bsn": BSN, "birth_date": (TODAY + timedelta(days=days)).isoformat()})
    rejection = refused(doc, RejectionCode.IMPLAUSIBLE_DATE)
    assert rejection.errors == (("data.person.birth_date", "the date of birth lies in the future"),)


@given(st.integers(min_value=0, max_value=20_000))
def test_a_date_of_birth_up_to_today_is_taken(days: int) -> None:
    doc = signal(person={"bsn": BSN, "birth_date": (TODAY - timedelta(days=days)).isoformat()})
    assert isinstance(parse(doc), ParsedSignal)


@given(st.integers(min_value=1, max_value=3_000))
def test_a_postnatal_phase_date_in_the_future_is_refused(days: int) -> None:
    phase = {"phase": "postnatal", "date": (TODAY + timedelta(days=days)).isoformat()}
    rejection = refused(signal(phase=phase), RejectionCode.IMPLAUSIBLE_DATE)
    assert rejection.errors[0][0] == "data.phase.date"
    assert "birth date lies in the future" in rejection.reason


@given(st.integers(min_value=0, max_value=2_000))
def test_a_due_date_more_than_ten_months_ahead_is_refused(extra_days: int) -> None:
    due = date(2027, 10, 1) + timedelta(days=1 + extra_days)  # ten months after 1 December
    rejection = refused(
        signal(phase={"phase": "pregnancy", "date": due.isoformat()}),
        RejectionCode.IMPLAUSIBLE_DATE,
    )
    assert rejection.errors[0][0] == "data.phase.date"
    assert "more than 10 months ahead" in rejection.reason


@given(st.integers(min_value=0, max_value=304))
def test_a_due_date_within_ten_months_is_taken(days: int) -> None:
    due = TODAY + timedelta(days=days)
    assert due <= date(2027, 10, 1)
    assert isinstance(
        parse(signal(phase={"phase": "pregnancy", "date": due.isoformat()})), ParsedSignal
    )


def test_every_wrong_date_is_named_at_once() -> None:
    doc = signal(
        person={"bsn": BSN, "birth_date": "2030-01-01"},
        phase={"phase": "postnatal", "date": "2030-01-01"},
    )
    rejection = refused(doc, RejectionCode.IMPLAUSIBLE_DATE)
    assert [path for path, _ in rejection.errors] == ["data.person.birth_date", "data.phase.date"]


@given(
    bsns(),
    st.sampled_from(["id", "source", "subject"]),
    st.sampled_from(["{}", "ref-{}", "{}x", "#{}.", "https://p.nl/clients/{}", "abc{}def"]),
)
def test_a_bsn_as_a_reference_is_refused(bsn: str, attribute: str, shape: str) -> None:
    doc = example_signal(BSN)
    doc[attribute] = shape.format(bsn)
    rejection = refused(doc, RejectionCode.BSN_AS_REFERENCE)
    assert rejection.errors[0][0] == attribute
    assert bsn not in str(rejection)
    assert "citizen service number" in rejection.reason


def test_a_bsn_as_a_number_in_subject_is_refused_too() -> None:
    doc = example_signal(BSN) | {"subject": 123456782}
    refused(doc, RejectionCode.BSN_AS_REFERENCE)


@given(st.uuids())
def test_uuids_as_references_are_never_taken_for_a_bsn(reference: Any) -> None:
    doc = example_signal(BSN) | {"id": str(reference), "subject": f"urn:uuid:{reference}"}
    assert isinstance(parse(doc), ParsedSignal)


def test_ordinary_references_are_taken() -> None:
    for reference in ("2026-000123", "VK-12345678", "0612345678", str(uuid4()), "1234567890"):
        assert isinstance(parse(example_signal(BSN) | {"id": reference}), ParsedSignal), reference


def test_wrong_dates_in_the_household_are_named_too() -> None:
    doc = example_signal(BSN, due_date=TODAY + timedelta(days=100), co_parent_bsn="123456782")
    doc["data"]["household"]["co_parent"]["birth_date"] = "2027-01-01"
    doc["data"]["household"]["children"] = [
        {"due_date": "2028-01-01"},
        {"person": {"bsn": "100000009", "birth_date": "2026-12-02"}},
    ]
    doc["data"]["referral_consent"]["given_on"] = "2026-12-05"
    rejection = refused(doc, RejectionCode.IMPLAUSIBLE_DATE)
    assert sorted(path for path, _ in rejection.errors) == [
        "data.household.children.0.due_date",
        "data.household.children.1.person.birth_date",
        "data.household.co_parent.birth_date",
        "data.referral_consent.given_on",
    ]
    for bsn in ("123456782", "100000009"):
        assert bsn not in str(rejection)
