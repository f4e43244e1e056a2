"""Persistence adapters: the read models' database and the projectors that feed it."""
