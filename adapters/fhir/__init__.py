"""HL7 FHIR R4 (R4B models) for care systems: a case as a Bundle, the access log as AuditEvents."""
