"""The reader policy table: every field of the case view and history labelled, role by field."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from adapters.http.schemas.queries import PartnerCaseOut
from domain.reader_policy import (
    CASE_FIELDS,
    HISTORY_FIELDS,
    SEES,
    Label,
    Reader,
    case_document,
    history_entry,
)
from projections.case_view import CaseView
from projections.event import DATA_MODELS, EventData

# Envelope fields the history shows apart (actor, time) or never (pseudonym, municipality).
ENVELOPE = {"actor", "occurred_at", "person_pseudonym", "municipality"}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (alone, optional, or as list/tuple items)."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (list, tuple)


def unlabelled(
    model: type[BaseModel],
    table: dict[str, Label],
    prefix: str = "",
    skip: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """Every field path of ``model`` that neither it nor an ancestor has a label for."""
    for name, info in model.model_fields.items():
        path = prefix + name
        if name in skip or path in table:
            continue
        nested = _model_of(info.annotation)
        if nested is None:
            yield path
            continue
        yield from unlabelled(nested, table, path + ("[]." if _is_list(info.annotation) else "."))


def test_a_field_of_the_case_view_with_no_label_fails() -> None:
    # timeline[].details is labelled per event, below.
    missing = [p for p in unlabelled(CaseView, CASE_FIELDS) if p != "timeline[].details"]
    assert missing == []


def test_a_field_of_the_partner_view_with_no_label_fails() -> None:
    assert list(unlabelled(PartnerCaseOut, CASE_FIELDS)) == []


@pytest.mark.parametrize("name", sorted(DATA_MODELS))
def test_a_field_of_a_history_entry_with_no_label_fails(name: str) -> None:
    assert name in HISTORY_FIELDS, f"history entries of {name} have no labels"
    model: type[EventData] = DATA_MODELS[name]
    assert list(unlabelled(model, HISTORY_FIELDS[name], skip=frozenset(ENVELOPE))) == []


def test_the_labels_in_the_table_name_real_fields() -> None:
    known = set(_paths(CaseView)) | set(_paths(PartnerCaseOut))
    assert set(CASE_FIELDS) - known == set()
    for name, table in HISTORY_FIELDS.items():
        assert set(table) - set(_paths(DATA_MODELS[name])) == set(), name


def _paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        yield prefix + name
        nested = _model_of(info.annotation)
        if nested is not None:
            sep = "[]." if _is_list(info.annotation) else "."
            yield from _paths(nested, prefix + name + sep)


# -- role by field ----------------------------------------------------------------------------
AT = datetime(2026, 3, 1, 9, tzinfo=UTC).isoformat()
SIGNAL = {
    "at": AT,
    "reporter": {"organisation": "verloskunde", "role": "midwife"},
    "phase": "prenatal",
    "phase_date": "2026-08-01",
    "risk_factors": ["debts"],
    "urgency": "soon",
    "household": [{"role": "co_parent", "due_date": None}],
    "referral_consent": None,
    "related_cases": [],
}
DOCUMENT: dict[str, Any] = {
    "case_id": "c-1",
    "municipality": "GM0928",
    "state": "discussed",
    "urgency": "soon",
    "risk_factors": ["debts"],
    "signals": [SIGNAL],
    "consent": {"status": "given", "scope": ["verloskunde"], "expires_on": None, "at": AT},
    "discussions": [
        {
            "on": "2026-03-02",
            "participants": ["ggd"],
            "scores": {"meedoen": 4},
            "needs": ["income"],
            "at": AT,
        }
    ],
    "escalations": [{"meldcode_step": "consult", "legal_basis": "wmo", "at": AT}],
    "births": [{"due_date": "2026-08-01", "at": AT}],
    "unlabelled_new_field": "never shown",
    "timeline": [
        {
            "version": 1,
            "event": "Signalled",
            "at": AT,
            "actor": {"organisation": "verloskunde", "role": "partner", "user_ref": ""},
            "details": {"signal": SIGNAL},
        },
        {
            "version": 2,
            "event": "Discussed",
            "at": AT,
            "actor": {"organisation": "gemeente", "role": "coordinator", "user_ref": "k"},
            "details": {
                "on": "2026-03-02",
                "participants": ["ggd"],
                "scores": {"meedoen": 4},
                "needs": ["income"],
            },
        },
    ],
}


def test_the_coordinator_sees_every_labelled_field_and_no_unlabelled_one() -> None:
    shown = case_document(DOCUMENT, Reader.COORDINATOR)
    assert shown == {k: v for k, v in DOCUMENT.items() if k != "unlabelled_new_field"}


def test_a_medical_partner_sees_process_and_medical_fields_only() -> None:
    shown = case_document(DOCUMENT, Reader.MEDICAL_PARTNER)
    assert shown["risk_factors"] == ["debts"]
    assert shown["signals"][0]["risk_factors"] == ["debts"]
    assert "household" not in shown["signals"][0]  # contact
    assert shown["discussions"][0] == {
        "on": "2026-03-02",
        "participants": ["ggd"],
        "scores": {"meedoen": 4},
        "at": AT,
    }
    assert "escalations" not in shown  # social
    assert shown["births"] == DOCUMENT["births"]
    assert shown["timeline"][1]["details"] == {
        "on": "2026-03-02",
        "participants": ["ggd"],
        "scores": {"meedoen": 4},
    }


def test_a_social_partner_sees_process_and_the_social_summary_only() -> None:
    shown = case_document(DOCUMENT, Reader.SOCIAL_PARTNER)
    assert "risk_factors" not in shown
    assert "risk_factors" not in shown["signals"][0]
    assert "phase_date" not in shown["signals"][0]
    assert shown["discussions"][0]["needs"] == ["income"]
    assert "scores" not in shown["discussions"][0]
    assert shown["escalations"] == DOCUMENT["escalations"]
    assert "births" not in shown


@pytest.mark.parametrize("reader", [Reader.AUDITOR, Reader.PRIVACY_OFFICER, Reader.PARTNER])
def test_auditors_and_privacy_officers_see_the_process_only(reader: Reader) -> None:
    shown = case_document(DOCUMENT, reader)
    for field in ("risk_factors", "escalations", "births"):
        assert field not in shown
    assert set(shown["signals"][0]) == {
        "at",
        "reporter",
        "phase",
        "urgency",
        "referral_consent",
        "related_cases",
    }
    assert shown["discussions"][0] == {"on": "2026-03-02", "participants": ["ggd"], "at": AT}
    assert [set(e["details"]) for e in shown["timeline"]] == [{"signal"}, {"on", "participants"}]
    assert shown["consent"] == DOCUMENT["consent"]


def test_the_programme_office_sees_no_field_of_a_case() -> None:
    assert case_document(DOCUMENT, Reader.PROGRAMME_OFFICE) == {}
    assert history_entry(DOCUMENT["timeline"][0], Reader.PROGRAMME_OFFICE) == {}


def test_every_reader_has_a_row_and_only_the_coordinator_reads_notes_and_contact() -> None:
    assert set(SEES) == set(Reader)
    for reader, labels in SEES.items():
        assert (Label.NOTES in labels) == (reader is Reader.COORDINATOR)
        assert (Label.CONTACT in labels) == (reader is Reader.COORDINATOR)
