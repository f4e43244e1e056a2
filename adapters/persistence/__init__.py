"""Persistence adapters: the read models' databases, the projectors that feed them, and
connections to the PostgreSQL server ks-engine keeps its state in."""
