"""Who owns a case (assignment) and the coordinators' notes, sealed and read with a purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from adapters.http.access import CoordinatedCase, reader_of
from adapters.http.case_command import CaseCommandDep, CommandContext
from adapters.http.context import AttemptDep, Coordinator, Services, ServicesDep, audited
from adapters.http.personal_reads import open_sealed
from adapters.http.problems import problem_responses
from adapters.http.schemas.commands import CommandOut
from adapters.http.schemas.ownership import AssignmentIn, NoteAddedOut, NoteIn, NoteOut, NotesOut
from domain import reader_policy
from domain.errors import InvalidValueError
from domain.referral import Referral
from ks_engine import commands as c
from ks_engine.access_log import AccessAction, PersonalDataPurpose
from ks_engine.coordinators import CoordinatorRef, coordinators_of
from ks_engine.principals import Principal

router = APIRouter(prefix="/cases", tags=["commands"])


def assignable(services: Services, case: Referral) -> list[CoordinatorRef]:
    """The coordinators a case can be assigned to (see ``ks_engine.coordinators``)."""
    rules = services.sessions.identities.rules() if services.sessions is not None else ()
    return coordinators_of(case.municipality, services.principals.principals(), rules)


def check_assignee(services: Services, case: Referral, principal: Principal, wanted: str) -> None:
    """Refuse (422) a coordinator who does not serve the case's municipality."""
    if wanted != principal.id and wanted not in {r.id for r in assignable(services, case)}:
        raise InvalidValueError(
            f"cannot assign case {case.id}: the id given is not a coordinator of "
            f"{case.municipality}'s Knooppunt"  # not repeated: typed, it may hold a BSN
        )


@router.post(
    "/{case_id}/assignment",
    summary="Assign the case to a coordinator of its municipality, or take it yourself",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
def assign(body: AssignmentIn, principal: Coordinator, call: CaseCommandDep) -> CommandOut:
    wanted = body.coordinator or principal.id
    check_assignee(call.services, call.case, principal, wanted)
    return call.run(
        call.referrals.assign_case,
        c.Assign(case_id=call.case.id, expected_version=call.version, coordinator=wanted),
    )


@router.post(
    "/{case_id}/notes",
    status_code=201,
    summary="Add a coordinator's note (free text, stored sealed)",
    description="The text is sealed under the case's notes key before it is stored, never "
    "published on the event stream and not part of the case's history; it is erased with "
    "the family's personal details. Adding a note leaves the case's version as it is.",
    dependencies=[audited(AccessAction.CREATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
def add_note(
    body: NoteIn, case: CoordinatedCase, ctx: CommandContext, services: ServicesDep
) -> NoteAddedOut:
    number = services.referrals.add_note(c.AddNote(case_id=case.id, text=body.text), ctx)
    services.metrics.commands.labels("add_note", "done").inc()
    return NoteAddedOut(case_id=case.id, number=number)


@router.get(
    "/{case_id}/notes",
    summary="The coordinators' notes, for a stated purpose (access-logged)",
    description="For the case's coordinators only. Every reading is an access-log entry "
    "with action `read personal data` and the purpose. The answer is never cached.",
    dependencies=[audited(AccessAction.READ_PERSONAL_DATA)],
    responses=problem_responses(401, 403, 404, 422),
)
async def read_notes(
    case: CoordinatedCase,
    principal: Coordinator,
    purpose: Annotated[PersonalDataPurpose, Query(description="Why the notes are read.")],
    services: ServicesDep,
    attempt: AttemptDep,
    response: Response,
) -> NotesOut:
    view = await open_sealed(services.referrals.case_notes, case, purpose, attempt, response)
    return NotesOut(
        case_id=case.id,
        purpose=purpose,
        status=view.status,
        erased_at=view.erased_at,
        notes=[
            NoteOut.model_validate(
                reader_policy.note_entry(
                    {
                        "number": n.number,
                        "at": n.at,
                        "organisation": n.organisation,
                        "author": n.user_ref,
                        "text": n.text,
                    },
                    reader_of(principal),
                )
            )
            for n in view.notes
        ],
    )
