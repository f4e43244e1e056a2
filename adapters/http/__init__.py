"""The HTTP API: coordinators, partners and auditors, with access control and an access log."""

from __future__ import annotations

from adapters.http.app import create_app, openapi_document

__all__ = ["create_app", "openapi_document"]
