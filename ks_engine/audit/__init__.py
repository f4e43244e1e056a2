"""The audit trail: a hash chain over the event store, signed checkpoints, verification,
replay of a case's history and a pseudonymised export an auditor can verify on their own."""
