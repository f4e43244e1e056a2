"""The answer to an access request (AVG art. 15) as a printable Dutch page.

One self-contained HTML document (its style inline, no script, no link), so that the privacy
officer can print it or hand it to the family as a file; the CLI writes the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from adapters.http.dashboard import labels
from adapters.http.dashboard.access_names import ACTIONS, OUTCOMES, PURPOSES
from domain.household import MEMBER_LABELS, MemberRole
from ks_engine.access_log import AccessAction, Purpose
from ks_engine.privacy.access_request import AccessReport

# The page's style is inline: it is a document of its own, not a dashboard page.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Content-Disposition": 'inline; filename="inzage.html"',
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_env.filters.update(day=labels.day, moment=labels.moment)


def _member(role: str) -> str:
    try:
        return MEMBER_LABELS[MemberRole(role)]
    except ValueError:
        return role


def _purpose(code: str) -> str:
    return PURPOSES.get(Purpose(code), code)


def _action(code: str) -> str:
    return ACTIONS.get(AccessAction(code), code)


_env.globals.update(
    label=labels.label_of,
    member_label=_member,
    purpose_label=_purpose,
    action_label=_action,
    outcome_label=lambda code: OUTCOMES.get(code, code),
)


def render_access_report(report: AccessReport) -> str:
    """The report as one printable HTML page in Dutch."""
    context: dict[str, Any] = {"report": report.as_json()}
    return _env.get_template("access_report.html").render(context)
