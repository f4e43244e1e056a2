"""The family's privacy over a case's whole life: expiry, retention and the rights (AVG)."""
