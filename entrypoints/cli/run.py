"""`ks run` (everything in one process) and each worker alone: `ks intake`, `ks relay`,
`ks project`."""

from __future__ import annotations

import asyncio
from functools import partial

import typer

from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.intake import Intake
from adapters.nats.projectors import run_projectors
from adapters.nats.relay import run_relay
from adapters.nats.streams import ensure_intake_streams
from entrypoints.cli.api import ApiNotStartedError, serve_api
from entrypoints.cli.principals import print_issued
from ks_engine.audit.sealer import run_sealer
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.demo import run_demo, signal_waiting_family
from ks_engine.partners import PartnerRegistry, load_partners
from ks_engine.principals import create_demo_principals, registry_for
from ks_engine.privacy.expiry import run_expiry
from ks_engine.runtime import NatsLink, NatsNotConfiguredError, nats_link, stop_on_signals
from ks_engine.settings import Settings
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component, Supervisor


def _partners(settings: Settings) -> PartnerRegistry | None:
    return load_partners(settings.partners_path) if settings.partners_path else None


def components(engine: Engine, link: NatsLink, board: StatusBoard) -> dict[str, Component]:
    """The engine's workers, each runnable alone or together; the API reports ``board``."""
    intake = Intake(engine, link.js, partners=_partners(engine.settings))
    return {
        "intake": intake.run,
        "relay": partial(run_relay, engine, link.js),
        "projectors": partial(run_projectors, engine, link.js),
        "api": partial(serve_api, engine, link, components=board),
        "sealer": partial(
            run_sealer,
            engine.audit.sealer,
            js=link.js,
            checkpoint_seconds=engine.settings.audit_checkpoint_seconds,
        ),
        "expiry": partial(
            run_expiry,
            engine.referrals,
            engine.settings.expiry,
            every_seconds=engine.settings.expiry_every_seconds,
        ),
    }


def _seed_demo(engine: Engine) -> None:
    """The demo scenario, a case waiting for the coordinator, and demo principals' tokens."""
    run_demo(engine, typer.echo)
    signal_waiting_family(engine, typer.echo)
    settings = engine.settings
    typer.echo(
        f"Demo principals for the HTTP API on http://{settings.api_host}:{settings.api_port}"
        " (new tokens on every `ks run --demo`; send them as `Authorization: Bearer <token>`):"
    )
    for issued in create_demo_principals(registry_for(settings)):
        print_issued(issued)


async def _serve(*, embedded: bool, only: str | None, demo: bool) -> None:
    engine = bootstrap()
    try:
        async with nats_link(engine.settings, embedded=embedded) as link:
            await ensure_intake_streams(link.js, engine.settings)
            await ensure_events_stream(link.js, engine.settings.nats_replicas)
            stop = stop_on_signals()
            board = StatusBoard()
            parts = components(engine, link, board)
            if only is not None:
                parts = {only: parts[only]}
            if demo:
                await asyncio.to_thread(_seed_demo, engine)
            typer.echo(f"ks-engine running ({', '.join(parts)}) on {link.url}; Ctrl-C stops")
            if engine.settings.log_file is not None:
                typer.echo(f"log lines (JSON) go to {engine.settings.log_file}")
            # A component that fails is restarted; a taken API address ends `ks run` (exit 2).
            await Supervisor(parts, board, fatal=(ApiNotStartedError,)).run(stop)
    except NatsNotConfiguredError as e:
        typer.echo(f"KS_NATS_URL is not set: {e}", err=True)
        raise typer.Exit(2) from None
    except ApiNotStartedError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.close()


def run(
    demo: bool = typer.Option(False, "--demo", help="Seed demo data and print demo tokens."),
) -> None:
    """Start the engine: intake, relay, projectors, the HTTP API and the audit sealer in one
    process.

    Without KS_NATS_URL an embedded nats-server is started under the data directory.
    """
    asyncio.run(_serve(embedded=True, only=None, demo=demo))


def intake() -> None:
    """Run only the intake worker: KS_SIGNALS into the event store (needs KS_NATS_URL)."""
    asyncio.run(_serve(embedded=False, only="intake", demo=False))


def relay() -> None:
    """Run only the relay: Referral events from the event store to KS_EVENTS (KS_NATS_URL)."""
    asyncio.run(_serve(embedded=False, only="relay", demo=False))


def project() -> None:
    """Run only the projectors: KS_EVENTS into the read models (needs KS_NATS_URL)."""
    asyncio.run(_serve(embedded=False, only="projectors", demo=False))


def sealer() -> None:
    """Run only the audit sealer: seal, sign and publish checkpoints (needs KS_NATS_URL)."""
    asyncio.run(_serve(embedded=False, only="sealer", demo=False))
