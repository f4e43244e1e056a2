"""The full consent record from a request: who gave consent, how, when, for what."""

from __future__ import annotations

from datetime import date

from adapters.http.schemas.commands import ConsentIn
from domain.consent_record import ConsentRecord


def consent_record(body: ConsentIn, today: date) -> ConsentRecord | None:
    """The record when the request says who gave consent and how; None otherwise."""
    if body.decision != "given" or body.given_by is None or body.method is None:
        return None
    return ConsentRecord(
        given_by=body.given_by,
        method=body.method,
        given_on=body.given_on or today,
        purpose=body.purpose,
    )
