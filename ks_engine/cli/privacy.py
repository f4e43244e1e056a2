"""`ks privacy erase|retention|expire`: the family's right to erasure, the retention period,
and the inactivity expiry."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from domain.errors import DomainError
from domain.personal_data import ErasureReason
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.audit.retention import due_for_erasure
from ks_engine.bootstrap import bootstrap
from ks_engine.privacy.expiry import expire_inactive

app = typer.Typer(
    no_args_is_help=True, help="Personal data: erasure, retention and inactivity expiry."
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
