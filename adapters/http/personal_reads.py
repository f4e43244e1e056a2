"""Opening a case's sealed personal data (details, notes): only for a stated purpose, which
the request's access-log entry records, and never cached."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from fastapi import Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import AccessAttempt
from domain.referral import Referral
from ks_engine.access_log import PersonalDataPurpose, Purpose

V = TypeVar("V")


async def open_sealed(
    open_view: Callable[[UUID], V],
    case: Referral,
    purpose: PersonalDataPurpose,
    attempt: AccessAttempt | None,
    response: Response | None = None,
) -> V:
    """``open_view`` of the case (off the event loop), its purpose logged; ``response`` no-store."""
    if attempt is not None:
        attempt.stated_purpose = Purpose(purpose.value)
    view = await run_in_threadpool(open_view, case.id)
    if response is not None:
        response.headers["Cache-Control"] = "no-store"
    return view
