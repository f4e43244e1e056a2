"""`ks privacy erase|retention|expire|access`: the family's right to erasure, the retention
period, the inactivity expiry and the right of access."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID, uuid4

import typer

from domain.errors import DomainError
from domain.personal_data import ErasureReason
from domain.values import Actor, ActorRole, check_bsn
from ks_engine import commands as c
from ks_engine.access_log import AccessAction, AccessLog, AccessOutcome, Purpose
from ks_engine.audit.retention import due_for_erasure
from ks_engine.bootstrap import bootstrap
from ks_engine.privacy.access_request import access_report
from ks_engine.privacy.expiry import expire_inactive
from ks_engine.private_file import replace

app = typer.Typer(
    no_args_is_help=True,
    help="Personal data: erasure, retention, inactivity expiry and the right of access.",
)


def _context(organisation: str, user: str, causation: str) -> c.Context:
    return c.Context(
        actor=Actor(organisation=organisation, role=ActorRole.ADMIN, user_ref=user),
        causation_id=causation,
    )


@app.command()
def erase(
    case: Annotated[str, typer.Option("--case", help="The case's id.")],
    organisation: Annotated[
        str, typer.Option(help="The organisation on whose behalf the erasure is done.")
    ] = "ks-engine-admin",
    user: Annotated[str, typer.Option(help="A reference to who erases (no name).")] = "",
    request: Annotated[
        str, typer.Option(help="The reference of the person's request.")
    ] = "ks privacy erase",
) -> None:
    """Erase the person's details on a case: record PersonalDataErased, destroy the case's
    data key, remove the person from the matching index. The history stays verifiable."""
    try:
        case_id = UUID(case)
    except ValueError:
        raise typer.BadParameter(f"{case!r} is not a case id") from None
    engine = bootstrap()
    try:
        result = engine.referrals.erase_personal_data(
            case_id, _context(organisation, user, request), ErasureReason.REQUEST
        )
    except DomainError as e:
        typer.echo(f"not erased: {e}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.close()
    typer.echo(
        f"The personal details of case {case_id} are erased (version {result.version}); "
        "a new signal about the person opens a new case."
    )


@app.command()
def retention(
    apply: Annotated[
        bool, typer.Option("--apply", help="Erase; without it, only report (dry run).")
    ] = False,
) -> None:
    """Erase the personal details of cases closed longer ago than KS_RETENTION_YEARS.

    A dry run by default: it reports what it would erase.
    """
    engine = bootstrap()
    try:
        app_ = engine.referrals
        due = due_for_erasure(app_, years=engine.settings.retention_years, now=app_.clock())
        for case_id, closed_on in due:
            if apply:
                app_.erase_personal_data(
                    case_id,
                    _context("ks-engine", "retention", f"retention:{closed_on.isoformat()}"),
                    ErasureReason.RETENTION,
                )
            verb = "erased" if apply else "would erase"
            typer.echo(f"{verb}: case {case_id}, closed on {closed_on.isoformat()}")
    finally:
        engine.close()
    years = engine.settings.retention_years
    if apply:
        typer.echo(f"{len(due)} cases closed more than {years} years ago erased.")
    else:
        typer.echo(
            f"Dry run: {len(due)} cases closed more than {years} years ago would be erased; "
            "run with --apply to erase them."
        )


@app.command()
def expire(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report which cases would expire.")
    ] = False,
) -> None:
    """Close open cases with no activity for KS_EXPIRY_MONTHS (default 24) with result
    expired. `ks run` does the same every day."""
    engine = bootstrap()
    rule = engine.settings.expiry
    try:
        done = expire_inactive(engine.referrals, rule, apply=not dry_run)
    finally:
        engine.close()
    verb = "would expire" if dry_run else "expired"
    for item in done:
        typer.echo(f"{verb}: case {item.case_id}, last activity on {item.last_activity}")
    typer.echo(
        f"{len(done)} cases without activity for {rule.months} months {verb}"
        + ("; run without --dry-run to close them." if dry_run else ".")
    )


def _read_bsn(path: Path) -> str:
    """The BSN in ``path`` (its only content); never echoed, not even in an error."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise typer.BadParameter(f"the BSN file cannot be read ({type(e).__name__})") from None
    try:
        return check_bsn(text)
    except DomainError as e:
        raise typer.BadParameter(f"the BSN file does not hold one valid BSN: {e}") from None


@app.command()
def access(
    bsn_file: Annotated[
        Path,
        typer.Option(
            "--bsn-file",
            help="A file holding the person's BSN (never on the command line).",
            exists=True,
            dir_okay=False,
        ),
    ],
    municipality: Annotated[
        list[str] | None,
        typer.Option(help="A municipality to search (repeat); default: all of the region."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json, or html: a printable page in Dutch.")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option(help="Write the answer to this file (mode 0600).")
    ] = None,
    organisation: Annotated[
        str, typer.Option(help="The privacy officer's organisation.")
    ] = "ks-engine-privacy-officer",
    user: Annotated[str, typer.Option(help="A reference to the privacy officer (no name).")] = "",
) -> None:
    """Answer an access request (AVG art. 15): everything recorded about the person with the
    BSN in --bsn-file and their household, as JSON or a printable Dutch page. Access-logged
    per case, purpose rights."""
    if output_format not in ("json", "html"):
        raise typer.BadParameter("--format is json or html")
    fmt: Literal["json", "html"] = "html" if output_format == "html" else "json"
    bsn = _read_bsn(bsn_file)
    engine = bootstrap()
    try:
        app_ = engine.referrals
        municipalities = municipality or list(engine.settings.region.codes)
        log = AccessLog(app_, app_.clock)
        report = access_report(app_, log, engine.pseudonymise(bsn), municipalities)
        source, request_id = f"cli {getpass.getuser()}@{socket.gethostname()}", str(uuid4())
        for case in report.cases:
            found = app_.get_case(case.case_id)
            log.record(
                action=AccessAction.READ_PERSONAL_DATA,
                outcome=AccessOutcome.ALLOWED,
                principal_id=user or "cli",
                role="privacy_officer",
                organisation=organisation,
                purpose=Purpose.RIGHTS,
                source_address=source,
                request_id=request_id,
                case_id=found.id,
                person_pseudonym=found.person_pseudonym,
                municipality=found.municipality,
                object="ks privacy access (access request, AVG art. 15)",
                status=200,
            )
    finally:
        engine.close()
    if fmt == "html":
        from adapters.http.dashboard.access_report import render_access_report

        text = render_access_report(report)
    else:
        text = json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    replace(output, text)
    typer.echo(f"{len(report.cases)} cases reported in {output}.", err=True)
