"""A provider's support-started confirmation: its contract, and its effect applied once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import CaseNotFoundError, IllegalTransitionError, NotInConsentScopeError
from domain.lifecycle import State
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.contract_docs import SUPPORT_STARTED_SCHEMA_PATH
from ks_engine.settings import Settings
from ks_engine.signal_contract import Rejection, RejectionCode, read_envelope
from ks_engine.signal_rules import SignalRules
from ks_engine.support_start_contract import example_support_started, support_started_from
from tests.conftest import FixedClock
from tests.unit.test_after_match import matched_case

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 2)
RULES = SignalRules.serving(["GM0928"], FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)))
PROVIDER = "schuldhulp-parkstad"  # named in matched_case's consent (DEBTS)
SUBJECT = "ks.signals.GM0928"


def parse(doc: dict[str, Any], subject: str | None = SUBJECT) -> Any:
    envelope, event = read_envelope(json.dumps(doc).encode())
    return support_started_from(envelope, event, subject, rules=RULES)


def refusal(doc: dict[str, Any], subject: str = SUBJECT) -> RejectionCode:
    with pytest.raises(Rejection) as refused:
        parse(doc, subject)
    return refused.value.code


def example(**data: Any) -> dict[str, Any]:
    doc = example_support_started(uuid4(), on=TODAY)
    doc["data"].update(data)
    return doc


def test_the_published_example_is_taken_and_fits_the_published_schema() -> None:
    asyncapi = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    message = asyncapi["components"]["messages"]["supportStarted"]
    payload = message["examples"][0]["payload"]
    schema = json.loads((ROOT / SUPPORT_STARTED_SCHEMA_PATH).read_text())
    jsonschema.validate(payload["data"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dict(payload["data"], lead_professional=""), schema)
    parsed = parse(dict(payload, data=dict(payload["data"], on=TODAY.isoformat())))
    assert parsed.data.lead_professional.startswith("J. de Vries")
    assert asyncapi["channels"]["signals"]["messages"]["supportStarted"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "nl.kansrijkestart.support-started.v2"}, RejectionCode.UNSUPPORTED_VERSION),
        ({"id": "client 111222333"}, RejectionCode.BSN_AS_REFERENCE),
        ({"data": "started"}, RejectionCode.SCHEMA_VIOLATION),
        ({"datacontenttype": "text/plain"}, RejectionCode.NOT_CLOUDEVENT),
    ],
)
def test_a_wrong_envelope_is_refused_with_its_code(
    change: dict[str, Any], code: RejectionCode
) -> None:
    assert refusal(example() | change) is code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"case_id": "12"}, RejectionCode.SCHEMA_VIOLATION),
        ({"lead_professional": ""}, RejectionCode.SCHEMA_VIOLATION),
        ({"lead_professional": "x" * 201}, RejectionCode.SCHEMA_VIOLATION),
        ({"note": "free text"}, RejectionCode.SCHEMA_VIOLATION),
        ({"municipality": "GM0917"}, RejectionCode.MUNICIPALITY_MISMATCH),
    ],
)
def test_wrong_data_is_refused_with_its_code(data: dict[str, Any], code: RejectionCode) -> None:
    assert refusal(example(**data)) is code


def test_a_municipality_the_knooppunt_does_not_serve_is_refused() -> None:
    doc = example(municipality="GM0917")
    assert refusal(doc, "ks.signals.GM0917") is RejectionCode.MUNICIPALITY_NOT_SERVED


@given(days=st.integers(min_value=-3000, max_value=3000))
def test_a_start_day_is_taken_unless_it_lies_after_today(days: int) -> None:
    doc = example(on=(TODAY + timedelta(days=days)).isoformat())
    if days > 0:
        assert refusal(doc) is RejectionCode.IMPLAUSIBLE_DATE
    else:
        assert parse(doc).data.on == TODAY + timedelta(days=days)


# -- applied through the application ---------------------------------------------------------
@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Referrals]:
    engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield engine.referrals
    engine.close()


def confirm(app: Referrals, case_id: UUID, key: str, source: str = PROVIDER) -> Any:
    cmd = c.StartSupport(case_id=case_id, on=app.clock().date(), lead_professional="Els")
    ctx = c.Context(actor=Actor(organisation=source, role=ActorRole.PARTNER), causation_id=key)
    return app.confirm_support_started(key, "GM0928", cmd, ctx)


def test_the_same_confirmation_twice_starts_the_support_once(app: Referrals) -> None:
    case_id = matched_case(app)
    first = confirm(app, case_id, f"{PROVIDER}#1")
    again = confirm(app, case_id, f"{PROVIDER}#1")
    assert (first.case_id, first.duplicate, first.refusal) == (case_id, False, None)
    assert (again.case_id, again.duplicate, again.refusal) == (case_id, True, None)
    events = app.repository.event_store.get(case_id)
    assert [type(e).__name__ for e in events].count("SupportStarted") == 1
    assert app.get_case(case_id).state is State.SUPPORT_STARTED


def test_a_provider_the_consent_does_not_name_is_refused_in_words(app: Referrals) -> None:
    case_id = matched_case(app)
    outcome = confirm(app, case_id, "https://other.example#1", source="https://other.example")
    assert isinstance(outcome.refusal, NotInConsentScopeError)
    assert "consent does not name https://other.example" in str(outcome.refusal)
    assert app.get_case(case_id).state is State.SUPPORT_MATCHED


def test_an_unknown_case_or_one_of_another_municipality_is_not_found(app: Referrals) -> None:
    case_id = matched_case(app)
    assert isinstance(confirm(app, uuid4(), f"{PROVIDER}#2").refusal, CaseNotFoundError)
    cmd = c.StartSupport(case_id=case_id, on=app.clock().date(), lead_professional="Els")
    ctx = c.Context(actor=Actor(organisation=PROVIDER, role=ActorRole.PARTNER), causation_id="k")
    elsewhere = app.confirm_support_started(f"{PROVIDER}#3", "GM0882", cmd, ctx)
    assert isinstance(elsewhere.refusal, CaseNotFoundError)


def test_a_second_start_under_another_id_is_refused_by_the_case(app: Referrals) -> None:
    case_id = matched_case(app)
    confirm(app, case_id, f"{PROVIDER}#4")
    later = confirm(app, case_id, f"{PROVIDER}#5")
    assert isinstance(later.refusal, IllegalTransitionError)
    assert later.case_id is None
