"""The household on the case page, and its personal details shown only on request.

"Toon persoonsgegevens" opens the sealed details for a purpose the coordinator chooses from
a closed list; the page is an access-log entry with action ``read personal data`` and that
purpose. The case page itself never holds a name, birth date or contact detail.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard.case import visible_case
from adapters.http.dashboard.household import PURPOSE_LABELS
from adapters.http.dashboard.render import page
from adapters.http.dashboard.session import PREFIX, Coordinator, PageError
from adapters.http.personal_reads import open_sealed
from ks_engine.access_log import AccessAction, PersonalDataPurpose
from ks_engine.personal_details import labelled_fields

router = APIRouter(prefix=f"{PREFIX}/casus", include_in_schema=False)


@router.get("/{case_id}/persoonsgegevens", dependencies=[audited(AccessAction.READ_PERSONAL_DATA)])
async def personal_page(
    request: Request,
    case_id: str,
    principal: Coordinator,
    services: ServicesDep,
    attempt: AttemptDep,
    doel: str = "",
) -> Response:
    """The household's personal details, for the chosen purpose."""
    try:
        purpose = PersonalDataPurpose(doel)
    except ValueError:
        raise PageError(
            422, "Doel ontbreekt", "Kies waarvoor u de persoonsgegevens wilt inzien."
        ) from None
    case = visible_case(case_id, principal, services, attempt)
    view = await open_sealed(services.referrals.personal_details, case, purpose, attempt)
    context = {
        "case_id": str(case.id),
        "purpose": PURPOSE_LABELS[purpose],
        "status": view.status,
        "erased_on": view.erased_on,
        "fields": labelled_fields(case, view),
    }
    return page(request, "personal.html", context)
