"""Who may see which case: the access rules, in one place.

A coordinator sees the cases of the municipalities they serve; a partner sees a case it
signalled while the family's consent is active and names the partner; an auditor or privacy
officer reads the histories of the municipalities assigned to them. Anything else is answered
exactly like a case that does not exist. What of a visible case each of them sees is
``domain/reader_policy.py``'s table.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends

from adapters.http.context import AttemptDep, PrincipalDep, ServicesDep, quick_read, require
from adapters.http.problems import NotFoundError
from domain.errors import CaseNotFoundError
from domain.reader_policy import Reader
from domain.referral import Referral
from ks_engine.principals import CareDomain, Principal, Role

_PARTNER_READERS = {
    CareDomain.MEDICAL: Reader.MEDICAL_PARTNER,
    CareDomain.SOCIAL: Reader.SOCIAL_PARTNER,
}
_READERS = {
    Role.COORDINATOR: Reader.COORDINATOR,
    Role.AUDITOR: Reader.AUDITOR,
    Role.PRIVACY_OFFICER: Reader.PRIVACY_OFFICER,
    Role.PROGRAMME_OFFICE: Reader.PROGRAMME_OFFICE,
    Role.ADMIN: Reader.PROGRAMME_OFFICE,  # operates the engine: reads no case's content
}


def reader_of(principal: Principal) -> Reader:
    """Which row of the reader policy applies to ``principal``."""
    if principal.role is Role.PARTNER:
        return (
            _PARTNER_READERS.get(principal.domain, Reader.PARTNER)
            if principal.domain
            else Reader.PARTNER
        )
    return _READERS[principal.role]


def partner_may_see(case: Referral, principal: Principal, today: date) -> bool:
    """A partner that signalled the case, while the family's consent covers it."""
    if principal.role is not Role.PARTNER:
        return False
    signalled = any(s["reporter"]["organisation"] == principal.organisation for s in case.signals)
    if not signalled or not case.consent_is_active(today) or case.consent is None:
        return False
    return principal.organisation in case.consent["scope"]


def may_see(case: Referral, principal: Principal, today: date) -> bool:
    """The access rule for reading one case."""
    if principal.role is Role.COORDINATOR:
        return principal.serves(case.municipality)
    if principal.role in (Role.AUDITOR, Role.PRIVACY_OFFICER):
        return principal.oversees(case.municipality)
    return partner_may_see(case, principal, today)


def load_visible_case(
    case_id: UUID, principal: Principal, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    """The case if ``principal`` may see it; NotFoundError alike for missing and hidden."""
    try:
        case = services.referrals.get_case(case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such case") from None
    if attempt is not None:
        attempt.touches(case)
    if not may_see(case, principal, services.referrals.clock().date()):
        if attempt is not None:
            attempt.hidden = True
        raise NotFoundError("there is no such case")
    return case


async def _readable_case(
    case_id: UUID,
    principal: Annotated[Principal, require(Role.COORDINATOR, Role.PARTNER)],
    services: ServicesDep,
    attempt: AttemptDep,
) -> Referral:
    # The read behind `GET /cases/{id}`, the API's busiest: on the event loop where it is short.
    return await quick_read(services, load_visible_case, case_id, principal, services, attempt)


def former_municipality(case: Referral, principal: Principal) -> str | None:
    """The municipality the principal coordinates that the case was transferred away from:
    its coordinators keep reading their own part of the history (until the transfer)."""
    if principal.role is not Role.COORDINATOR or principal.serves(case.municipality):
        return None
    return next((m for m in case.former_municipalities if principal.serves(m)), None)


def _history_case(
    case_id: UUID,
    principal: Annotated[Principal, require(Role.COORDINATOR, Role.AUDITOR, Role.PRIVACY_OFFICER)],
    services: ServicesDep,
    attempt: AttemptDep,
) -> Referral:
    try:
        return load_visible_case(case_id, principal, services, attempt)
    except NotFoundError:
        case = services.referrals.get_case(case_id)  # it exists: load_visible_case found it
        if former_municipality(case, principal) is None:
            raise
        if attempt is not None:
            attempt.hidden = False
        return case


def _coordinated_case(
    case_id: UUID,
    principal: Annotated[Principal, require(Role.COORDINATOR)],
    services: ServicesDep,
    attempt: AttemptDep,
) -> Referral:
    return load_visible_case(case_id, principal, services, attempt)


ReadableCase = Annotated[Referral, Depends(_readable_case)]
HistoryCase = Annotated[Referral, Depends(_history_case)]
CoordinatedCase = Annotated[Referral, Depends(_coordinated_case)]

__all__ = [
    "CoordinatedCase",
    "HistoryCase",
    "PrincipalDep",
    "ReadableCase",
    "former_municipality",
    "load_visible_case",
    "may_see",
    "partner_may_see",
    "reader_of",
]
