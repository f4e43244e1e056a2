"""`ks run` (every component, each in a process of its own, under one supervisor) and each
process alone: `ks intake`, `ks relay`, `ks project`, `ks sealer`."""

from __future__ import annotations

import asyncio
import os
import sys

import typer

from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.streams import ensure_intake_streams
from entrypoints.cli.principals import print_issued
from entrypoints.processes import intake as intake_process
from entrypoints.processes import ks_run_processes
from entrypoints.processes import projectors as projectors_process
from entrypoints.processes import relay as relay_process
from entrypoints.processes import sealer as sealer_process
from entrypoints.processes.api import STATUS_FILE
from entrypoints.processes.builds import BUILDS
from entrypoints.processes.children import ChildProcesses
from entrypoints.processes.host import run_alone, serve
from entrypoints.processes.status_file import SharedBoard
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.demo import run_demo, signal_waiting_family
from ks_engine.principals import create_demo_principals, registry_for
from ks_engine.runtime import nats_link, run_event_loop, stop_on_signals


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


def child_command(module: str) -> list[str]:
    """How `ks run` starts a process of ``module`` (one of ``entrypoints.processes``)."""
    return [sys.executable, "-m", f"entrypoints.processes.{module}", "--in-ks-run"]


async def _run_processes(demo: bool) -> int:
    """Start nats-server when KS_NATS_URL is not set, seed the demo, then supervise every
    process until SIGTERM or Ctrl-C; the exit status of `ks run`."""
    engine = bootstrap()  # first, alone: creates the stores and keys the processes share
    try:
        settings = engine.settings
        async with nats_link(settings, embedded=True) as link:
            await ensure_intake_streams(link.js, settings)
            await ensure_events_stream(link.js, settings.nats_replicas)
            stop = stop_on_signals()
            if demo:
                await asyncio.to_thread(_seed_demo, engine)
            engine.close()  # the processes open their own
            processes = ks_run_processes(settings.intake_processes)
            children = ChildProcesses(
                {name: child_command(module) for name, module in processes.items()},
                SharedBoard(settings.data_dir / STATUS_FILE),
                env=os.environ | {"KS_NATS_URL": link.url},
                last=frozenset({"sealer"}),  # its last checkpoint covers every other's saves
            )
            typer.echo(
                f"ks-engine running ({', '.join(processes)}, each a process) on {link.url};"
                " Ctrl-C stops"
            )
            if settings.log_file is not None:
                typer.echo(f"log lines (JSON) go to {settings.log_file}")
            return await children.run(stop)
    finally:
        engine.close()


def run(
    demo: bool = typer.Option(False, "--demo", help="Seed demo data and print demo tokens."),
    one_process: bool = typer.Option(
        False, "--one-process", help="Run every component in this one process."
    ),
) -> None:
    """Start the engine: intake, relay, projectors, the HTTP API, the audit sealer and expiry,
    each in a process of its own, restarted when it fails.

    Without KS_NATS_URL an embedded nats-server is started under the data directory.
    """
    if one_process:
        run_event_loop(serve(BUILDS, embedded=True, before=_seed_demo if demo else None))
        return
    code = asyncio.run(_run_processes(demo))
    if code:
        raise typer.Exit(code)


def intake() -> None:
    """Run only the intake worker: KS_SIGNALS into the event store (needs KS_NATS_URL)."""
    run_alone("intake", intake_process.component)


def relay() -> None:
    """Run only the relay: Referral events from the event store to KS_EVENTS (KS_NATS_URL)."""
    run_alone("relay", relay_process.component)


def project() -> None:
    """Run only the projectors: KS_EVENTS into the read models (needs KS_NATS_URL)."""
    run_alone("projectors", projectors_process.component)


def sealer() -> None:
    """Run only the audit sealer: seal, sign and publish checkpoints (needs KS_NATS_URL)."""
    run_alone("sealer", sealer_process.component)
