"""`ks demo`: the scripted scenario on the configured store."""

from __future__ import annotations

import typer

from ks_engine.bootstrap import bootstrap
from ks_engine.demo import run_demo


def demo() -> None:
    """Run the scripted Knooppunt scenario on the configured store and print each step."""
    engine = bootstrap()
    try:
        typer.echo(
            f"ks-engine demo on the {engine.settings.store} store ({engine.settings.data_dir}/)"
        )
        run_demo(engine, typer.echo)
    finally:
        engine.close()
