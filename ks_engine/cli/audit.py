"""`ks audit verify|seal|replay|export`: what an auditor runs against the event store."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from adapters.fhir.audit_export import export_audit_events
from adapters.persistence.sqlite_views import open_views
from domain.errors import CaseNotFoundError
from ks_engine.access_log import AccessLog
from ks_engine.audit import signing
from ks_engine.audit.export import ExportError, export
from ks_engine.audit.published import PublishedCheckpoints, read_published
from ks_engine.audit.replay import CaseReplay, personal_fields, replay_all, replay_case
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.cli.projections import jetstream
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from projections.case_view_store import CaseViews
from projections.read_models import ReadModels

app = typer.Typer(no_args_is_help=True, help="Audit trail: verify, seal, replay and export.")


def _engine() -> Engine:
    return bootstrap(configure_logs=True)


@app.command()
def verify(
    grace: Annotated[
        float, typer.Option(help="Seconds to let a running engine seal events just stored.")
    ] = 2.0,
    nats_url: Annotated[
        str | None,
        typer.Option("--nats", help="NATS server holding KS_EVENTS (default: KS_NATS_URL)."),
    ] = None,
) -> None:
    """Recompute every link of the hash chain and check every signed checkpoint, also those
    published to KS_EVENTS when a NATS server is known.

    Exits 0 when the history is intact, 1 naming the first broken event otherwise.
    """
    engine = _engine()
    try:
        settings = engine.settings
        if nats_url:
            settings = settings.model_copy(update={"nats_url": nats_url})
        published = asyncio.run(_published(settings)) if settings.nats_url else None
        key = engine.audit.signing_key.public_key()
        report = Verifier(
            engine.referrals, engine.audit.chain, [key], grace_seconds=grace, published=published
        ).verify()
    finally:
        engine.close()
    if report.intact:
        typer.echo(
            f"Audit trail intact: {report.verified} events verified in order up to position "
            f"{report.last_position}; {report.checkpoints} signed checkpoints valid."
        )
        if published is None:
            typer.echo("(KS_EVENTS not consulted: set KS_NATS_URL or give --nats.)")
        else:
            typer.echo(f"{len(published.checkpoints)} checkpoints in KS_EVENTS match the store.")
        return
    first = report.problems[0]
    typer.echo(f"AUDIT TRAIL BROKEN. First finding: {first.message}")
    if len(report.problems) > 1:
        typer.echo(f"All {len(report.problems)} findings ({report.verified} events intact):")
        for p in report.problems:
            typer.echo(f"  - [{p.kind}] {p.message}")
    raise typer.Exit(1)


async def _published(settings: Settings) -> PublishedCheckpoints:
    async with jetstream(settings) as js:
        return await read_published(js)


@app.command()
def seal() -> None:
    """Seal every stored event not sealed yet and sign a checkpoint of the chain's head."""
    engine = _engine()
    try:
        sealed = engine.audit.sealer.seal_pending()
        cp = engine.audit.sealer.checkpoint()
    finally:
        engine.close()
    signed = f"; checkpoint signed at position {cp.position}" if cp else ""
    typer.echo(f"{sealed} events sealed{signed}.")


@app.command("public-key")
def public_key() -> None:
    """Print the engine's public key (PEM): auditors check checkpoints and exports with it."""
    engine = _engine()
    try:
        typer.echo(signing.public_key_pem(engine.audit.signing_key.public_key()), nl=False)
    finally:
        engine.close()


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


@app.command()
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
    engine = _engine()
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
    views = ReadModels(open_views(engine.settings)).cases
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


@app.command("export")
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
    engine = _engine()
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
