"""`ks principals`: who may use the HTTP API. Tokens are printed once and stored hashed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from entrypoints.cli import identity_map
from ks_engine.clock import now
from ks_engine.principals import (
    CareDomain,
    Issued,
    Principal,
    PrincipalError,
    PrincipalRegistry,
    Role,
    create_demo_principals,
    registry_for,
)
from ks_engine.settings import Settings

app = typer.Typer(no_args_is_help=True, help="API principals and their bearer tokens.")
app.add_typer(identity_map.app, name="map")


def _registry() -> PrincipalRegistry:
    return registry_for(Settings())


def _moment(value: datetime | None) -> str:
    return value.astimezone(now().tzinfo).strftime("%Y-%m-%d %H:%M") if value else "never"


def print_issued(issued: Issued) -> None:
    """Show a new principal and its token (the only time the token is shown)."""
    p = issued.principal
    where = f" for {', '.join(p.municipalities)}" if p.municipalities else ""
    typer.echo(
        f"{p.id}: {p.role.value} of {p.organisation}{where}; expires {_moment(p.expires_at)}"
    )
    # The token's line comes last: scripts take everything after its colon.
    typer.echo(f"  token (shown once, keep it safe): {issued.token}")


def expiry(principal: Principal, at: datetime) -> str:
    """When the principal's token expires (or did), and until when a rotated one still works."""
    ends = principal.expires_at
    text = f"EXPIRED {_moment(ends)}" if ends is not None and ends <= at else _moment(ends)
    if principal.previous_works(at):
        text += f" (previous token until {_moment(principal.previous_expires_at)})"
    return text


@app.command("add")
def add(
    role: Annotated[
        Role,
        typer.Option(
            help="partner, coordinator, auditor, privacy_officer, admin or programme_office"
        ),
    ],
    organisation: Annotated[str, typer.Option(help="Organisation (a partner: its source URI)")],
    municipality: Annotated[
        list[str] | None,
        typer.Option(
            help="Municipality a coordinator serves or an auditor or privacy officer oversees "
            "(repeat for more), e.g. GM0928"
        ),
    ] = None,
    domain: Annotated[
        CareDomain | None,
        typer.Option(help="A partner's domain: medical or social (what it sees of a case)"),
    ] = None,
    principal_id: Annotated[
        str | None, typer.Option("--id", help="Principal id (default: generated)")
    ] = None,
) -> None:
    """Create a principal and print its bearer token once (it expires after KS_TOKEN_DAYS)."""
    try:
        issued = _registry().add(
            role=role,
            organisation=organisation,
            municipalities=municipality or [],
            domain=domain,
            principal_id=principal_id,
        )
    except PrincipalError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    print_issued(issued)


@app.command("rotate")
def rotate(principal_id: str) -> None:
    """Issue a new token for a principal and print it once; the old token keeps working for
    KS_TOKEN_GRACE_DAYS (never past its own expiry)."""
    try:
        issued = _registry().rotate(principal_id)
    except PrincipalError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    until = issued.principal.previous_expires_at
    if until is not None:
        typer.echo(f"the previous token of {principal_id} works until {_moment(until)}")
    else:
        typer.echo(f"the previous token of {principal_id} had expired; it stays expired")
    print_issued(issued)


@app.command("list")
def list_principals() -> None:
    """List principals and when their tokens expire (never the tokens)."""
    registry = _registry()
    at = registry.clock()
    for p in registry.principals():
        where = f" [{', '.join(p.municipalities)}]" if p.municipalities else ""
        typer.echo(
            f"{p.id:<32} {p.role.value:<12} expires {expiry(p, at):<17} {p.organisation}{where}"
        )


@app.command("remove")
def remove(principal_id: str) -> None:
    """Remove a principal; its tokens stop working at once."""
    if not _registry().remove(principal_id):
        typer.echo(f"there is no principal '{principal_id}'", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {principal_id}")


@app.command("demo")
def demo() -> None:
    """(Re)create the demo principals and print their tokens (valid for a day)."""
    for issued in create_demo_principals(_registry()):
        print_issued(issued)
