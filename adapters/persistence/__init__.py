"""Persistence adapters: the read models' databases, the projectors that feed them,
connections to the PostgreSQL server ks-engine keeps its state in, the audit chain's tables
and the key store."""
