"""`ks audit verify|seal|replay|export|checkpoints`: what an auditor runs on the event store."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import nats
import nats.errors
import typer

from adapters.fhir.audit_export import export_audit_events
from adapters.persistence.views import open_views
from domain.errors import CaseNotFoundError
from ks_engine.access_log import AccessLog
from ks_engine.audit import last_verify, signing
from ks_engine.audit.export import ExportError, export
from ks_engine.audit.findings import Report
from ks_engine.audit.independent import (
    CheckpointFileError,
    CheckpointSource,
    append_checkpoints,
    read_checkpoint_file,
)
from ks_engine.audit.published import read_published
from ks_engine.audit.replay import CaseReplay, personal_fields, replay_all, replay_case
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings
from projections.case_view_store import CaseViews
from projections.read_models import ReadModels

app = typer.Typer(
    no_args_is_help=True, help="Audit trail: verify, seal, replay, export and keep checkpoints."
)


def _engine() -> Engine:
    return bootstrap(configure_logs=True)


EXIT_INTACT = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_NOT_COMPARED = 3

VERIFY_HELP = """Recompute every link of the hash chain and check every signed checkpoint, and
compare the stored checkpoints with those kept outside the database: published to KS_EVENTS
(--nats or KS_NATS_URL) and in checkpoints files (--checkpoints FILE, written by `ks audit
checkpoints export`).

Exit codes: 0 intact, and compared with at least one checkpoint kept outside the database;
1 the history was altered (each finding is printed, the first broken event named);
2 a usage error (an option, an unreadable checkpoints file);
3 intact as far as the database shows, but no checkpoint kept outside it could be compared:
removing the newest events together with their seals and checkpoints would go unnoticed.
"""


@app.command(help=VERIFY_HELP)
def verify(
    grace: Annotated[
        float, typer.Option(help="Seconds to let a running engine seal events just stored.")
    ] = 2.0,
    nats_url: Annotated[
        str | None,
        typer.Option("--nats", help="NATS server holding KS_EVENTS (default: KS_NATS_URL)."),
    ] = None,
    checkpoint_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoints",
            help="A checkpoints file (`ks audit checkpoints export`); may be given again.",
        ),
    ] = None,
) -> None:
    sources: list[CheckpointSource] = []
    for path in checkpoint_files or []:
        try:
            sources.append(read_checkpoint_file(path))
        except CheckpointFileError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(EXIT_USAGE) from None
    engine = _engine()
    try:
        settings = engine.settings
        if nats_url:
            settings = settings.model_copy(update={"nats_url": nats_url})
        if settings.nats_url:
            published = asyncio.run(_published(settings))
            sources += [published] if published is not None else []
        key = engine.audit.signing_key.public_key()
        report = Verifier(
            engine.referrals, engine.audit.chain, [key], grace_seconds=grace, sources=sources
        ).verify()
        last_verify.save(last_verify.path_in(settings.data_dir), report, engine.referrals.clock())
    finally:
        engine.close()
    raise typer.Exit(_print_report(report, consulted_nats=bool(settings.nats_url)))


def _print_report(report: Report, *, consulted_nats: bool) -> int:
    """Print what verification found; the exit code."""
    if not report.intact:
        first = report.problems[0]
        typer.echo(f"AUDIT TRAIL BROKEN. First finding: {first.message}")
        if len(report.problems) > 1:
            typer.echo(f"All {len(report.problems)} findings ({report.verified} events intact):")
            for p in report.problems:
                typer.echo(f"  - [{p.kind}] {p.message}")
        return EXIT_BROKEN
    typer.echo(
        f"Audit trail intact: {report.verified} events verified in order up to position "
        f"{report.last_position}; {report.checkpoints} signed checkpoints valid."
    )
    for name, held in report.sources.items():
        typer.echo(f"{held} checkpoints in {name} match the store.")
    newest = report.newest_independent
    if newest is not None:
        typer.echo(
            f"Newest checkpoint kept outside the database: position {newest.position}, signed "
            f"at {newest.signed_at}"
            + (
                f"; events after it (up to {report.last_position}) are vouched for by the "
                "database alone."
                if newest.position < report.last_position
                else "."
            )
        )
        return EXIT_INTACT
    if not consulted_nats:
        typer.echo("(KS_EVENTS not consulted: set KS_NATS_URL or give --nats.)")
    typer.echo(
        "NOT COMPARED with any checkpoint kept outside the database (KS_EVENTS or a "
        "checkpoints file given with --checkpoints): removing the newest events together with "
        "their seals and checkpoints would not be found. Exit code 3."
    )
    return EXIT_NOT_COMPARED


async def _quiet(error: Exception) -> None:
    """Connection errors are said once, in words, by ``_published``."""


async def _published(settings: Settings) -> CheckpointSource | None:
    """The checkpoints in KS_EVENTS; None (said on stderr) when they cannot be read. One try
    to connect: verification reports that it could not compare rather than wait."""
    try:
        nc = await nats.connect(
            settings.nats_servers,
            name="ks-audit-verify",
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,  # nats-py retries an initial connect up to this
            reconnect_time_wait=0.5,
            error_cb=_quiet,
            **nats_credentials(settings),
        )
    except (OSError, nats.errors.Error) as e:
        typer.echo(
            f"cannot reach the NATS server in KS_NATS_URL: {e or type(e).__name__}", err=True
        )
        return None
    try:
        return await read_published(nc.jetstream())
    except nats.errors.Error as e:
        typer.echo(f"cannot read KS_EVENTS: {e or type(e).__name__}", err=True)
        return None
    finally:
        await nc.close()


checkpoints_app = typer.Typer(
    no_args_is_help=True, help="Signed checkpoints kept outside the database."
)
app.add_typer(checkpoints_app, name="checkpoints")


@checkpoints_app.command("export")
def export_checkpoints(
    out: Annotated[
        Path, typer.Option("--out", help="The checkpoints file (JSON Lines) to append to.")
    ],
) -> None:
    """Append the signed checkpoints the file does not hold yet, one JSON object a line, as a
    second home outside the database (`ks audit verify --checkpoints FILE` compares with it).
    Existing lines are never rewritten: keep the file on other, append-only storage.

    Exit codes: 0 appended (or nothing new); 1 the file and the store disagree, or the file
    holds lines that are no checkpoints (nothing conflicting is appended: run `ks audit verify
    --checkpoints FILE`); 2 the file cannot be read or written.
    """
    engine = _engine()
    try:
        stored = engine.audit.chain.checkpoints()
        try:
            done = append_checkpoints(out, stored, engine.audit.signing_key.public_key())
        except CheckpointFileError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(EXIT_USAGE) from None
    finally:
        engine.close()
    newest = max((cp.position for cp in stored), default=0)
    typer.echo(
        f"{len(done.added)} checkpoints appended to {out} ({done.already} were there already); "
        f"the newest stored checkpoint covers up to position {newest}."
    )
    for cp in done.invalid:
        typer.echo(
            f"NOT appended: the stored checkpoint for position {cp.position} is not "
            "validly signed by the engine's key."
        )
    for cp in done.conflicting:
        typer.echo(
            f"NOT appended: the stored checkpoint for position {cp.position} differs "
            f"from the one {out} holds."
        )
    for cp in done.missing:
        typer.echo(f"The checkpoint for position {cp.position} in {out} is no longer in the store.")
    for where in done.unreadable:
        typer.echo(f"{where[:1].upper()}{where[1:]} is not a checkpoint of ks-engine.")
    if done.invalid or done.conflicting or done.missing or done.unreadable:
        typer.echo(f"Run `ks audit verify --checkpoints {out}`.")
        raise typer.Exit(EXIT_BROKEN)


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
