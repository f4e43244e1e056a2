"""Adapters: NATS, HTTP and persistence at the edge of ks-engine."""
