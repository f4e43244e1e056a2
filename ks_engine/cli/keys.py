"""`ks keys`: secrets an operator needs for production."""

from __future__ import annotations

import typer

from ks_engine.settings import new_secrets

app = typer.Typer(no_args_is_help=True, help="Secrets for production settings.")


@app.command("new")
def new() -> None:
    """Print a fresh KS_PSEUDONYM_KEY and KS_CIPHER_KEY (keep them in a secret store)."""
    for name, value in new_secrets().items():
        typer.echo(f"KS_{name.upper()}={value}")
