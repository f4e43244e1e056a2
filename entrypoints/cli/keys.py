"""`ks keys`: secrets an operator needs for production."""

from __future__ import annotations

import typer

from ks_engine.settings import new_secrets

app = typer.Typer(no_args_is_help=True, help="Secrets for production settings.")


@app.command("new")
def new() -> None:
    """Print fresh KS_PSEUDONYM_KEY, KS_CIPHER_KEY, KS_SIGNING_KEY and KS_NATS_STORE_KEY (keep
    them in a secret store)."""
    for name, value in new_secrets().items():
        typer.echo(f"KS_{name.upper()}={value}")
