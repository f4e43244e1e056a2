"""The coordinators' web dashboard, served by the HTTP API's app under ``/dashboard``.

Server-rendered pages (Jinja2) over the same principals, access rules, access log and
application commands as the API; a little JavaScript refreshes the work queue.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from adapters.http.dashboard import (
    audit,
    case,
    case_as_of,
    catalogue,
    meeting_discussion,
    meeting_forms,
    meetings,
    monitoring,
    oidc,
    ownership,
    pages,
    personal,
    region,
    rights,
    search,
    transfer_forms,
)
from adapters.http.dashboard.render import HERE, body_refused, page_error
from adapters.http.dashboard.session import PREFIX, PageError
from adapters.http.problems import ProblemWhileReading


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages, its static files and its error pages to ``app``."""
    for module in (
        pages,
        oidc,
        search,
        personal,
        ownership,
        case,
        case_as_of,
        transfer_forms,
        rights,
        meetings,
        meeting_forms,
        meeting_discussion,
        monitoring,
        region,
        catalogue,
        audit,
    ):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(ProblemWhileReading, body_refused)
    app.add_api_route("/", _to_dashboard, methods=["GET"], include_in_schema=False)


def _to_dashboard() -> RedirectResponse:
    """A browser opening the server's address lands on the dashboard."""
    return RedirectResponse(f"{PREFIX}/", status_code=307)
