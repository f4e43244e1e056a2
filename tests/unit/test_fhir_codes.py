"""Every value the access log and the lifecycle can hold has its FHIR code: an AuditEvent or a
Task is never left without one (a new purpose, action or outcome fails here first)."""

from __future__ import annotations

from adapters.fhir import codes
from ks_engine.access_log import AccessAction, AccessOutcome, Purpose


def test_every_purpose_of_use_has_a_v3_code() -> None:
    assert set(codes.PURPOSE_OF_USE) == {p.value for p in Purpose}


def test_every_access_action_and_outcome_has_an_audit_event_code() -> None:
    assert set(codes.AUDIT_ACTION) == {a.value for a in AccessAction}
    assert set(codes.AUDIT_OUTCOME) == {o.value for o in AccessOutcome}
