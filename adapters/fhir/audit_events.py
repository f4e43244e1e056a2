"""Access-log entries (NEN 7513) as FHIR AuditEvents (IHE ATNA vocabulary)."""

from __future__ import annotations

from fhir.resources.R4B.auditevent import (
    AuditEvent,
    AuditEventAgent,
    AuditEventAgentNetwork,
    AuditEventEntity,
    AuditEventSource,
)
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from adapters.fhir import codes as c
from ks_engine.access_log import AccessEntry


def audit_event(entry: AccessEntry) -> AuditEvent:
    """One access-log entry: who (principal, role, organisation), what, when, from where, why."""
    purpose_code, purpose_display = c.PURPOSE_OF_USE[entry.purpose.value]
    return AuditEvent(
        id=str(entry.event_id),
        type=c.coding(c.DICOM, "110110", "Patient Record"),
        action=c.AUDIT_ACTION[entry.action.value],
        recorded=entry.occurred_at.isoformat(),
        outcome=c.AUDIT_OUTCOME[entry.outcome.value],
        outcomeDesc=f"HTTP {entry.status}",
        purposeOfEvent=[c.concept(c.ACT_REASON, purpose_code, purpose_display)],
        agent=[
            AuditEventAgent(
                type=c.concept(c.KS_ROLE, entry.role) if entry.role else None,
                who=Reference(identifier=Identifier(system=c.PRINCIPAL, value=entry.principal_id))
                if entry.principal_id
                else Reference(display="zonder geldig token"),
                requestor=True,
                network=AuditEventAgentNetwork(address=entry.source_address, type="2"),
                altId=entry.organisation,
            )
        ],
        source=AuditEventSource(
            observer=Reference(display="ks-engine"),
            type=[c.coding(c.AUDIT_SOURCE_TYPE, "4", "Application Server")],
        ),
        entity=[
            AuditEventEntity(
                what=Reference(identifier=Identifier(system=c.CASE_ID, value=str(entry.case_id)))
                if entry.case_id
                else None,
                description=entry.object,
            )
        ],
    )
