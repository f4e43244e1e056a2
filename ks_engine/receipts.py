"""Receipts: what a partner learns about each signal it sent, accepted or rejected."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.signal_record import signal_reference as signal_reference  # re-exported

RECEIPT_SUBJECT_PREFIX = "ks.receipts"


def receipt_subject(municipality: str, partner: str, reference: str) -> str:
    """``ks.receipts.<municipality>.<partner>.<reference>``: a partner may read only its own."""
    return f"{RECEIPT_SUBJECT_PREFIX}.{municipality}.{partner}.{reference}"


class Receipt(BaseModel):
    """The outcome of one signal; never carries personal data."""

    model_config = ConfigDict(frozen=True)
    reference: str
    status: Literal["accepted", "rejected"]
    source: str | None = None
    signal_id: str | None = None
    case_id: UUID | None = None
    matched_existing: bool | None = None
    duplicate: bool = False
    error_code: str | None = None
    reason: str | None = None
    processed_at: dt.datetime
