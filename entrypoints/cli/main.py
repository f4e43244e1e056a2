"""The root `ks` command and the registration of every command group."""

from __future__ import annotations

import typer

from entrypoints.cli import (
    api,
    audit,
    catalogue,
    check,
    demo,
    dlq,
    docs,
    keys,
    monitoring,
    principals,
    privacy,
    projections,
    run,
    signal,
)

app = typer.Typer(no_args_is_help=True, help="ks-engine: case routing for the Knooppunt.")
app.command()(demo.demo)
app.add_typer(docs.app, name="docs")
app.command()(run.run)
app.command()(run.intake)
app.command()(run.relay)
app.command()(run.project)
app.command()(run.sealer)
app.command()(check.check)
app.add_typer(signal.app, name="signal")
app.add_typer(keys.app, name="keys")
projections.register(app)
app.add_typer(principals.app, name="principals")
app.command()(api.api)
app.add_typer(audit.app, name="audit")
app.add_typer(privacy.app, name="privacy")
app.add_typer(dlq.app, name="dlq")
app.add_typer(monitoring.app, name="monitoring")
app.add_typer(catalogue.app, name="catalogue")
