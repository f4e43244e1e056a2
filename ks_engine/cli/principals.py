"""`ks principals`: who may use the HTTP API. Tokens are printed once and stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer

from ks_engine.principals import (
    Issued,
    PrincipalError,
    PrincipalRegistry,
    Role,
    create_demo_principals,
)
from ks_engine.settings import Settings

app = typer.Typer(no_args_is_help=True, help="API principals and their bearer tokens.")


def _registry() -> PrincipalRegistry:
    return PrincipalRegistry(Settings().principals_file)


def print_issued(issued: Issued) -> None:
    """Show a new principal and its token (the only time the token is shown)."""
    p = issued.principal
    where = f" for {', '.join(p.municipalities)}" if p.municipalities else ""
    typer.echo(f"{p.id}: {p.role.value} of {p.organisation}{where}")
    typer.echo(f"  token (shown once, keep it safe): {issued.token}")


@app.command("add")
def add(
    role: Annotated[Role, typer.Option(help="partner, coordinator, auditor or admin")],
    organisation: Annotated[str, typer.Option(help="Organisation (a partner: its source URI)")],
    municipality: Annotated[
        list[str] | None,
        typer.Option(help="Municipality a coordinator serves (repeat for more), e.g. GM0928"),
    ] = None,
    principal_id: Annotated[
        str | None, typer.Option("--id", help="Principal id (default: generated)")
    ] = None,
) -> None:
    """Create a principal and print its bearer token once."""
    try:
        issued = _registry().add(
            role=role,
            organisation=organisation,
            municipalities=municipality or [],
            principal_id=principal_id,
        )
    except PrincipalError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    print_issued(issued)


@app.command("list")
def list_principals() -> None:
    """List principals (never their tokens)."""
    for p in _registry().principals():
        where = f" [{', '.join(p.municipalities)}]" if p.municipalities else ""
        typer.echo(f"{p.id:<32} {p.role.value:<12} {p.organisation}{where}")


@app.command("remove")
def remove(principal_id: str) -> None:
    """Remove a principal; its token stops working at once."""
    if not _registry().remove(principal_id):
        typer.echo(f"there is no principal '{principal_id}'", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {principal_id}")


@app.command("demo")
def demo() -> None:
    """(Re)create the demo principals and print their tokens."""
    for issued in create_demo_principals(_registry()):
        print_issued(issued)
