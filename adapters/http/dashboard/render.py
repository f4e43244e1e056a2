"""Rendering pages: the Jinja2 environment, the layout's context and the pages' headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from adapters.http.body import MAX_BODY_BYTES
from adapters.http.dashboard import labels
from adapters.http.dashboard.session import (
    PREFIX,
    SIGN_IN_COOKIE,
    PageError,
    SignInRequiredError,
    new_sign_in_nonce,
    safe_next,
)
from adapters.http.problems import ProblemWhileReading, http_problem
from ks_engine.principals import Principal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(prefix=PREFIX, label=labels.label_of)
templates.env.filters.update(day=labels.day, moment=labels.moment, names_of=labels.names_of)

# Case data must not stay in caches or reach other sites; the pages need no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    """A page in the dashboard's layout, with who is signed in and the forms' CSRF token."""
    principal: Principal | None = getattr(request.state, "principal", None)
    full = {
        "principal": principal,
        "csrf": getattr(request.state, "csrf", ""),
        "current": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, full, status_code=status)
    return secured(response)


def redirect(target: str) -> Response:
    return secured(RedirectResponse(target, status_code=303))


def sign_in_page(
    request: Request, message: str, *, status: int = 401, next_path: str | None = None
) -> Response:
    """The sign-in form (answered in place of a page that needs a signed-in coordinator)."""
    nonce = new_sign_in_nonce()
    request.state.principal = None
    target = next_path
    if target is None and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    services = getattr(request.app.state, "services", None)
    context = {
        "message": message,
        "next": safe_next(target),
        "nonce": nonce,
        "oidc": getattr(services, "oidc", None) is not None,
    }
    response = page(request, "sign_in.html", context, status=status)
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=1800,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def body_refused(request: Request, exc: Exception) -> Response:
    """A body refused while it was read: a Dutch page on the dashboard, a problem elsewhere."""
    assert isinstance(exc, ProblemWhileReading)
    if not request.url.path.startswith(f"{PREFIX}/"):
        return await http_problem(request, exc)
    title, message = (
        (
            "Formulier te groot",
            f"Het formulier is groter dan {MAX_BODY_BYTES // 1024} KiB en "
            "is niet verwerkt. Maak de tekst korter en probeer het opnieuw.",
        )
        if exc.status_code == 413
        else ("Niet verwerkt", "Het formulier is niet verwerkt. Laad de pagina opnieuw.")
    )
    return page(request, "error.html", {"title": title, "message": message}, status=exc.status_code)


async def page_error(request: Request, exc: Exception) -> Response:
    """The Dutch error page for a PageError (the sign-in form for a missing sign-in)."""
    assert isinstance(exc, PageError)
    if isinstance(exc, SignInRequiredError):
        return sign_in_page(request, exc.message)
    return page(
        request, "error.html", {"title": exc.title, "message": exc.message}, status=exc.status
    )
