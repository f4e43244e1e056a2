"""`ks audit verify|seal|replay|export|checkpoints`: what an auditor runs on the event store.

(`replay` and `export` are in audit_replay.py and audit_export.py, registered here.)
"""

from __future__ import annotations

import asyncio
import os
from functools import partial
from pathlib import Path
from typing import Annotated

import nats
import nats.errors
import typer

from entrypoints.cli.audit_export import ExportFormat as ExportFormat
from entrypoints.cli.audit_export import export_command
from entrypoints.cli.audit_replay import replay
from ks_engine.audit import last_verify, signing
from ks_engine.audit.findings import Report
from ks_engine.audit.independent import (
    CheckpointFileError,
    CheckpointSource,
    append_checkpoints,
    read_checkpoint_file,
)
from ks_engine.audit.published import read_published
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap, verifying_parts
from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings

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
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes walking ranges of the log (default: KS_AUDIT_VERIFY_WORKERS, "
            "else one per core).",
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
            engine.referrals,
            engine.audit.chain,
            [key],
            grace_seconds=grace,
            sources=sources,
            parts=partial(verifying_parts, settings),
            workers=workers or settings.audit_verify_workers or os.cpu_count() or 1,
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


app.command()(replay)
app.command("export")(export_command)
