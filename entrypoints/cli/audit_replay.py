"""`ks audit replay`: a case as it was at a moment, rebuilt from its event history alone."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import typer

from adapters.persistence.views import opened_views
from domain.errors import CaseNotFoundError
from ks_engine.audit.replay import CaseReplay, personal_fields, replay_all, replay_case
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from projections.case_view_store import CaseViews
from projections.read_models import ReadModels


def _moment(text: str) -> datetime:
    """An ISO date or date-time; a date means its end, Dutch time when no zone is given."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.max.time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (2026-11-02) or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)


def _print_replay(engine: Engine, found: CaseReplay) -> None:
    case = found.case
    when = found.as_of.isoformat() if found.as_of else "now"
    typer.echo(f"Case {case.id} as of {when}, rebuilt from its history alone")
    typer.echo(f"  municipality: {case.municipality}")
    typer.echo(f"  state: {case.state.value} (version {case.version})")
    typer.echo(f"  urgency: {case.urgency}; risk factors: {', '.join(case.risk_factors)}")
    consent = case.consent
    typer.echo(f"  consent: {consent['status'] if consent else 'none'}")
    typer.echo(
        f"  discussions: {len(case.discussions)}; support matched: {len(case.support)}; "
        f"escalations: {len(case.escalations)}"
    )
    typer.echo(f"  outcome: {case.outcome['code'] if case.outcome else 'open'}")
    for field, status in personal_fields(engine.referrals.vault, case).items():
        typer.echo(f"  {field}: {status}")
    typer.echo("Timeline:")
    for entry in found.timeline:
        actor = entry["actor"]
        typer.echo(
            f"  v{entry['version']} {entry['at']} {entry['type']} "
            f"by {actor['organisation']} ({actor['role']})"
        )
    if found.later_events:
        typer.echo(f"({found.later_events} later events not applied)")


def _view_document(views: CaseViews, case_id: UUID) -> dict[str, Any] | None:
    view = views.get(case_id)
    return None if view is None else view.model_dump(mode="json")


def replay(
    case: Annotated[str | None, typer.Option("--case", help="The case's id.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="A date or ISO time; the case then.")
    ] = None,
    all_cases: Annotated[
        bool, typer.Option("--all", help="Rebuild every case and compare with the views.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
) -> None:
    """A case as it was at a moment, from the event history alone; or every case compared."""
    if (case is None) == (not all_cases):
        raise typer.BadParameter("give either --case ID or --all")
    engine = bootstrap(configure_logs=True)
    try:
        if all_cases:
            _replay_all(engine)
            return
        assert case is not None
        try:
            case_id = UUID(case)
        except ValueError:
            raise typer.BadParameter(f"{case!r} is not a case id") from None
        try:
            found = replay_case(engine.referrals, case_id, _moment(as_of) if as_of else None)
        except CaseNotFoundError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        if as_json:
            typer.echo(json.dumps(found.timeline, indent=2))
        else:
            _print_replay(engine, found)
    finally:
        engine.close()


def _replay_all(engine: Engine) -> None:
    with opened_views(engine.settings) as db:
        views = ReadModels(db).cases
        rebuilt, differing = replay_all(
            engine.referrals,
            current=engine.referrals.get_case,
            case_view=lambda case_id: _view_document(views, case_id),
        )
    for d in differing:
        typer.echo(f"case {d.case_id}:")
        for line in d.differences:
            typer.echo(f"  {line}")
    if differing:
        typer.echo(f"{rebuilt} cases rebuilt; {len(differing)} differ from what is served.")
        raise typer.Exit(1)
    typer.echo(f"{rebuilt} cases rebuilt from the history; the case view agrees with each.")
