"""The meeting pages speak Dutch: every meeting route has a step name for the auditor, and
every refusal the meeting can give has its Dutch reason."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.routing import APIRoute

from adapters.http.dashboard import (
    access_names,
    meeting_discussion,
    meeting_forms,
    meeting_words,
    meetings,
)
from adapters.http.routers import meetings as api_meetings
from domain.errors import DomainError
from ks_engine.access_log import AccessAction, AccessEntry, AccessOutcome, Purpose

ROUTES = [
    (method, route.path)
    for module in (meetings, meeting_forms, meeting_discussion, api_meetings)
    for route in module.router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
]


def _entry(obj: str) -> AccessEntry:
    return AccessEntry(
        event_id=UUID(int=1),
        occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
        action=AccessAction.READ,
        outcome=AccessOutcome.ALLOWED,
        principal_id="c",
        role="coordinator",
        organisation="gemeente-kerkrade",
        purpose=Purpose.COORDINATION,
        source_address="127.0.0.1",
        request_id="r",
        object=obj,
        status=200,
    )


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_meeting_route_has_a_dutch_step_name(method: str, path: str) -> None:
    assert access_names.step_of(_entry(f"{method} {path}")) is not None
    # An agenda item's own entry names the same step
    assert access_names.step_of(_entry(f"{method} {path} (agenda)")) is not None


# Every message the meeting aggregate and service refuse with, as they word it.
REFUSALS = (
    "cannot put case x on the agenda: the family has not consented to discussion at the "
    "Knooppunt (or the consent expired or was withdrawn)",
    "cannot put case x on the agenda: the family's consent does not cover any of the "
    "attending organisations",
    "case x belongs to another municipality than meeting y",
    "cannot put case x on the agenda: the case is closed",
    "case x is already on the agenda of this meeting",
    "cannot change the agenda: meeting y of 2026-11-02 is concluded",
    "case x was decided on in this meeting already",
    "case x is not on the agenda of this meeting",
    "the meeting of 2026-11-09 lies in the future; decide on the day",
    "the meeting of 2026-11-09 lies in the future; conclude it afterwards",
    "the meeting date 2026-11-01 lies in the past",
    "a meeting needs at least one attending organisation",
    "a discussed case needs its follow-up (what happens next)",
    "case x was discussed: name the participants, scores and needs found",
    "the lead organisation of case x must attend and be covered by the family's consent",
    "an agenda holds at most 60 cases",
)


@pytest.mark.parametrize("message", REFUSALS)
def test_every_meeting_refusal_has_its_dutch_reason(message: str) -> None:
    said = meeting_words.meeting_refusal(DomainError(message), "Casus 740ce0b5")
    assert said is not None
    assert said.startswith("Casus 740ce0b5 kan niet: ")
    assert not any(word in said for word in ("case", "meeting", "agenda of", "the "))
