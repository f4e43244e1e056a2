"""`ks audit export`: a municipality's case events with their hash chain, or its access log
as FHIR AuditEvents."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from adapters.fhir.audit_export import export_audit_events
from domain.errors import CaseNotFoundError
from ks_engine.access_log import AccessLog
from ks_engine.audit.export import ExportError, export
from ks_engine.bootstrap import Engine, bootstrap


class ExportFormat(StrEnum):
    """What ``ks audit export`` writes."""

    CHAIN = "chain"
    FHIR = "fhir"


def _export_fhir(engine: Engine, out: Path, municipality: str, start: date, end: date) -> None:
    referrals = engine.referrals

    def municipality_of(case_id: UUID) -> str | None:
        try:
            return referrals.get_case(case_id).municipality
        except CaseNotFoundError:
            return None

    with out.open("w", encoding="utf-8") as f:
        written = export_audit_events(
            AccessLog(referrals, referrals.clock),
            municipality_of,
            f,
            municipality=municipality,
            start=start,
            end=end,
        )
    typer.echo(f"{written} access-log entries about {municipality}'s cases written to {out}.")


def export_command(
    municipality: Annotated[str, typer.Option(help="CBS code, e.g. GM0928.")],
    from_: Annotated[str, typer.Option("--from", help="First day (2026-01-01).")],
    to: Annotated[str, typer.Option("--to", help="Last day, included.")],
    out: Annotated[Path, typer.Option("--out", help="The JSON Lines file to write.")],
    format_: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="chain: the case events with their hash chain; fhir: the access log of the "
            "municipality's cases as FHIR AuditEvents (NDJSON).",
        ),
    ] = ExportFormat.CHAIN,
) -> None:
    """A pseudonymised export of a municipality's case events, verifiable without ks-engine
    (see docs/audit.md), or (--format fhir) the access log about its cases (docs/fhir.md)."""
    try:
        start, end = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        raise typer.BadParameter("--from and --to are dates like 2026-01-31") from None
    engine = bootstrap(configure_logs=True)
    if format_ is ExportFormat.FHIR:
        try:
            _export_fhir(engine, out, municipality, start, end)
        finally:
            engine.close()
        return
    try:
        with out.open("w", encoding="ascii") as f:
            result = export(
                engine.referrals,
                engine.audit.chain,
                engine.audit.sealer,
                f,
                municipality=municipality,
                start=start,
                end=end,
            )
    except ExportError as e:
        typer.echo(f"cannot export: {e}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.close()
    typer.echo(
        f"{result.events} events of {municipality} exported to {out} with {result.links} chain "
        f"links (positions {result.first_position}-{result.last_position}) and their checkpoints."
    )
