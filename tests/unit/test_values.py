"""Value objects: BSN elfproef, municipality codes, phases, scores and the Dutch labels."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.errors import InvalidValueError
from domain.values import (
    ActorRole,
    Bsn,
    Dimension,
    HealthScores,
    Labelled,
    MeldcodeStep,
    MunicipalityCode,
    Need,
    Outcome,
    Phase,
    PhaseInfo,
    ReporterRole,
    RiskFactor,
    Urgency,
    check_bsn,
    check_municipality_code,
)
from tests.referral_builders import make_signal, scores

GOOD_BSNS = ["111222333", "123456782", "999999990", "010000008"]
# (value, what the message says). None of these messages may repeat the value.
BAD_BSNS = [
    ("123456789", "fails the elfproef"),  # one digit off from a valid number
    ("111222334", "fails the elfproef"),
    ("000000000", "fails the elfproef"),  # passes the sum but is no number
    ("12345678", "exactly nine digits"),
    ("1234567890", "exactly nine digits"),
    ("12345678a", "exactly nine digits"),
    ("123 456 782", "exactly nine digits"),
    ("", "exactly nine digits"),
    ("١١١٢٢٢٣٣٣", "exactly nine digits"),  # Arabic-Indic digits are not a BSN
]


@pytest.mark.parametrize("bsn", GOOD_BSNS)
def test_a_bsn_passing_the_elfproef_is_accepted(bsn: str) -> None:
    weighted = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), bsn, strict=True))
    assert weighted % 11 == 0  # the examples really are valid
    assert check_bsn(bsn) == bsn


def _elfproef(value: str) -> bool:
    """The elfproef as it is defined: nine ASCII digits, 9*d1 + ... + 2*d8 - d9 divisible by
    eleven, not all zeros."""
    if not (len(value) == 9 and all("0" <= d <= "9" for d in value)):
        return False
    weighted = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), value, strict=True))
    return weighted % 11 == 0 and value != "000000000"


@settings(max_examples=400)
@given(
    st.one_of(
        st.text(alphabet="0123456789", min_size=9, max_size=9),
        st.text(min_size=0, max_size=12),
        st.text(alphabet="0123456789 -.a\u0661\u00b2", min_size=8, max_size=10),
    )
)
def test_check_bsn_accepts_exactly_the_numbers_passing_the_elfproef(value: str) -> None:
    try:
        accepted = check_bsn(value) == value
    except InvalidValueError:
        accepted = False
    assert accepted == _elfproef(value)


@pytest.mark.parametrize(("bsn", "reason"), BAD_BSNS)
def test_a_bad_bsn_is_refused_without_repeating_it(bsn: str, reason: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        check_bsn(bsn)

    assert reason in str(refused.value)
    assert bsn not in str(refused.value) or bsn == ""


class Intake(BaseModel):
    """A message schema as an adapter would write it."""

    bsn: Bsn
    municipality: MunicipalityCode


@pytest.mark.parametrize(("bsn", "reason"), [*BAD_BSNS[:4], (123456782, "exactly nine digits")])
def test_pydantic_errors_about_a_bsn_never_contain_it(bsn: object, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Intake.model_validate({"bsn": bsn, "municipality": "GM0928"})

    as_text = str(refused.value)
    as_json = json.dumps(refused.value.errors(include_context=False))
    assert reason in as_text
    for shown in (as_text, as_json, refused.value.json()):
        assert str(bsn) not in shown
        assert "[withheld]" in shown


def test_a_valid_bsn_passes_through_a_schema_unchanged() -> None:
    intake = Intake.model_validate_json('{"bsn": "123456782", "municipality": "GM0882"}')

    assert intake.bsn == "123456782"
    assert type(intake.bsn) is str
    assert Intake.model_json_schema()["properties"]["bsn"] == {
        "title": "Bsn",
        "type": "string",
        "pattern": "^[0-9]{9}$",
    }


@pytest.mark.parametrize("code", ["GM0928", "GM0882", "GM0981", "GM0917", "GM0344"])
def test_cbs_municipality_codes_are_accepted(code: str) -> None:
    assert check_municipality_code(code) == code


@pytest.mark.parametrize(
    "code",
    ["gm0928", "GM928", "GM09281", "0928", "GM 0928", "XX0928", "GM09a8", "", "GM0928\n", "GM٠٩٢٨"],
)
def test_other_municipality_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidValueError, match=r"'GM' followed by four digits, e\.g\. GM0928"):
        check_municipality_code(code)


def test_a_signal_with_a_bad_municipality_code_is_invalid() -> None:
    with pytest.raises(ValidationError, match="municipality code must be 'GM'"):
        make_signal(municipality="Kerkrade")


@pytest.mark.parametrize(
    ("phase", "needed"), [(Phase.PREGNANCY, "expected due date"), (Phase.POSTNATAL, "birth date")]
)
def test_pregnancy_and_postnatal_phases_need_their_date(phase: Phase, needed: str) -> None:
    with pytest.raises(ValidationError, match=needed):
        PhaseInfo(phase=phase)
    assert PhaseInfo(phase=phase, date=date(2027, 1, 1)).date == date(2027, 1, 1)


def test_preconception_needs_no_date() -> None:
    assert PhaseInfo(phase=Phase.PRECONCEPTION).date is None


def test_a_signal_needs_at_least_one_risk_factor() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        make_signal(risks=())


def test_low_scores_are_listed_lowest_first() -> None:
    s = HealthScores(
        bodily_functions=9,
        mental_wellbeing=2,
        meaningfulness=5,
        quality_of_life=6,
        participation=0,
        daily_functioning=4,
    )

    assert s.low() == [
        Dimension.PARTICIPATION,
        Dimension.MENTAL_WELLBEING,
        Dimension.DAILY_FUNCTIONING,
        Dimension.MEANINGFULNESS,
    ]
    assert s.low(threshold=0) == [Dimension.PARTICIPATION]
    assert scores(low=6, high=7).low() == []


@pytest.mark.parametrize(
    "vocabulary",
    [RiskFactor, ReporterRole, Need, Phase, Urgency, Dimension, Outcome, MeldcodeStep, ActorRole],
)
def test_every_vocabulary_member_has_a_dutch_label(vocabulary: type[Labelled]) -> None:
    labels = [member.label for member in vocabulary]
    assert all(labels)
    assert len(set(labels)) == len(labels)


def test_labels_are_dutch() -> None:
    assert RiskFactor.DEBTS.label == "Schulden en financiële problemen"
    assert Dimension.MEANINGFULNESS.label == "Zingeving"
    assert Urgency.URGENT.rank < Urgency.SOON.rank < Urgency.ROUTINE.rank
