"""`ks catalogue import|export`: the menukaart as HSDS 3.0 JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import DomainError
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.bootstrap import bootstrap
from ks_engine.hsds import HsdsError, export_hsds, from_hsds

app = typer.Typer(no_args_is_help=True, help="The menukaart (support catalogue) as HSDS JSON.")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An HSDS JSON document (as `export` writes).")],
    organisation: Annotated[
        str, typer.Option(help="The organisation on whose behalf the menukaart is replaced.")
    ] = "ks-engine-admin",
    user: Annotated[str, typer.Option(help="A reference to who imports (no name).")] = "",
) -> None:
    """Replace the menukaart by the file's, after checking it against the HSDS schema; the
    change is an event in the menukaart's history (who, when)."""
    try:
        catalogue = from_hsds(json.loads(file.read_text("utf-8")))
    except OSError as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    except json.JSONDecodeError as exc:
        typer.echo(f"{file} is not JSON: {exc}", err=True)
        raise typer.Exit(1) from None
    except HsdsError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(1) from None
    engine = bootstrap()
    try:
        actor = Actor(organisation=organisation, role=ActorRole.ADMIN, user_ref=user)
        ctx = c.Context(actor=actor, causation_id=f"ks catalogue import {file.name}")
        version = engine.referrals.import_catalogue(catalogue, ctx)
    except DomainError as exc:
        typer.echo(f"not imported: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.close()
    typer.echo(
        f"imported {len(catalogue.services)} offers of {len(catalogue.organizations)} "
        f"providers; the menukaart is now version {version}"
    )


@app.command()
def export(
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """The current menukaart as one HSDS 3.0 JSON document, checked against the HSDS schema."""
    engine = bootstrap()
    try:
        text = json.dumps(export_hsds(engine.referrals.catalogue), indent=2, ensure_ascii=False)
    except HsdsError as exc:
        typer.echo(f"not exported: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.close()
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
