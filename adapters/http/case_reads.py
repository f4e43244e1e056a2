"""Access-log entries for pages that show several cases at once (a meeting's agenda).

The request's own entry names no single case; each case shown gets an entry of its own, with
who read it, the case and its person's pseudonym, and the purpose, before the page is answered:
a case that cannot be logged is not shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from adapters.http.context import AccessAttempt, Services
from domain.referral import Referral
from ks_engine.access_log import AccessAction, AccessOutcome


def record_case_reads(
    services: Services,
    request: Request,
    attempt: AccessAttempt | None,
    cases: Sequence[Referral],
    *,
    what: str,
) -> None:
    """One READ entry per case in ``cases``, read for ``attempt``'s purpose (call off the loop)."""
    if attempt is None:
        return
    for case in cases:
        services.access_log.record(
            action=AccessAction.READ,
            outcome=AccessOutcome.ALLOWED,
            **attempt.reader(request),
            case_id=case.id,
            person_pseudonym=case.person_pseudonym,
            municipality=case.municipality,
            object=f"{attempt.object} ({what})",
            status=200,
        )
