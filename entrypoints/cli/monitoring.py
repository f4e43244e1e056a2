"""`ks monitoring export`: the region's monitoring as it may leave the Knooppunt."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from adapters.persistence.views import opened_views
from entrypoints.cli.projections import views_reachable
from ks_engine.births_file import BirthsFileError
from ks_engine.monitoring_export import MonitoringExport
from ks_engine.region_file import RegionFileError
from ks_engine.settings import Settings
from projections.monitoring_store import Monitoring
from projections.publication import Area, Granularity, to_csv
from projections.read_models import build_projections
from projections.store import install

app = typer.Typer(no_args_is_help=True, help="Monitoring of the region's Knooppunten.")


def _day(text: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        typer.echo(f"{option} takes a date written as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None


@app.command("export")
def export(
    granularity: Annotated[
        Granularity, typer.Option(help="Period of each table: month, quarter or year.")
    ] = "quarter",
    area: Annotated[Area, typer.Option(help="A row per municipality, or the region.")] = (
        "municipality"
    ),
    format: Annotated[str, typer.Option(help="json or csv.")] = "json",
    since: Annotated[str | None, typer.Option(help="First month, as a date YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Last month, as a date YYYY-MM-DD.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Aggregated figures with small counts suppressed so that none can be worked out, small
    totals rounded (rules in docs/monitoring.md); no case, no pseudonym."""
    if format not in ("json", "csv"):
        typer.echo("--format is json or csv", err=True)
        raise typer.Exit(2)
    first, last = _day(since, "--since"), _day(until, "--until")
    settings = Settings()
    try:
        publisher = MonitoringExport.from_settings(settings)
    except (RegionFileError, BirthsFileError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    with views_reachable(), opened_views(settings) as db:
        install(db, build_projections(settings.service_levels))
        counts, days = Monitoring(db, settings.monitoring_threshold).raw(None, first, last)
    publication = publisher.publish(counts, days, granularity, area)
    text = to_csv(publication) if format == "csv" else publication.model_dump_json(indent=2)
    if output is None:
        typer.echo(text, nl=format == "json")
    else:
        output.write_text(text if format == "csv" else text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
