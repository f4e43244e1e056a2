"""`ks run` (everything in one process) and `ks intake` (the intake worker alone)."""

from __future__ import annotations

import asyncio

import typer

from adapters.nats.intake import Intake
from adapters.nats.streams import ensure_intake_streams
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.demo import run_demo
from ks_engine.partners import PartnerRegistry, load_partners
from ks_engine.runtime import Component, NatsLink, nats_link, run_components, stop_on_signals
from ks_engine.settings import Settings


def _partners(settings: Settings) -> PartnerRegistry | None:
    return load_partners(settings.partners_path) if settings.partners_path else None


def components(engine: Engine, link: NatsLink) -> dict[str, Component]:
    """The engine's workers, each runnable alone or together."""
    intake = Intake(engine, link.js, partners=_partners(engine.settings))
    return {"intake": intake.run}


async def _serve(*, embedded: bool, only: str | None, demo: bool) -> None:
    engine = bootstrap()
    try:
        async with nats_link(engine.settings, embedded=embedded) as link:
            await ensure_intake_streams(link.js, engine.settings)
            stop = stop_on_signals()
            parts = components(engine, link)
            if only is not None:
                parts = {only: parts[only]}
            if demo:
                await asyncio.to_thread(run_demo, engine, typer.echo)
            typer.echo(f"ks-engine running ({', '.join(parts)}) on {link.url}; Ctrl-C stops")
            await run_components(parts, stop)
    finally:
        engine.close()


def run(
    demo: bool = typer.Option(False, "--demo", help="Seed demo data and print demo tokens."),
) -> None:
    """Start the engine: intake (and the other workers) in one process.

    Without KS_NATS_URL an embedded nats-server is started under the data directory.
    """
    asyncio.run(_serve(embedded=True, only=None, demo=demo))


def intake() -> None:
    """Run only the intake worker (needs KS_NATS_URL)."""
    asyncio.run(_serve(embedded=False, only="intake", demo=False))
