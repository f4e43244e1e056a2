"""What every process of the engine does around its components: its own engine, its NATS
link and streams, its supervisor, a graceful stop on SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping, Sequence

import typer

from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.streams import ensure_intake_streams
from entrypoints.processes.wakeups import announce_saves, wake_on_saves
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.heap import freeze_startup_heap
from ks_engine.runtime import (
    NatsLink,
    NatsNotConfiguredError,
    nats_link,
    run_event_loop,
    stop_on_signals,
)
from ks_engine.supervision import CannotStartError, StatusBoard
from ks_engine.supervisor import Component, Supervisor

Build = Callable[[Engine, NatsLink, StatusBoard], Component]
"""Builds a component from the process's engine, NATS link and status board."""

# A process still stopping this long after SIGTERM ends anyway: a little after `ks run`'s own
# grace (``children.ChildProcesses.grace``), so that under `ks run` the parent kills it first.
STOP_DEADLINE_SECONDS = 35.0


async def serve(
    builds: Mapping[str, Build],
    *,
    embedded: bool,
    before: Callable[[Engine], None] | None = None,
    board: StatusBoard | None = None,
    announce: bool = False,
    banner: bool = True,
    seal_here: bool = True,
) -> None:
    """Run the built components under one supervisor until SIGTERM or Ctrl-C.

    ``embedded`` starts nats-server when KS_NATS_URL is not set; ``before`` runs (in a thread)
    once the streams exist; ``announce`` tells other processes about this one's saves and
    wakes this one's relay and sealer on theirs; without ``seal_here`` this process's saves
    are sealed by the sealer process (`ks run` starts one). Exits 2 when KS_NATS_URL is
    missing or a component cannot start (the API's address is taken); exits 1 when a stop
    hangs past ``STOP_DEADLINE_SECONDS``."""
    engine = bootstrap()
    try:
        async with nats_link(engine.settings, embedded=embedded) as link:
            await ensure_intake_streams(link.js, engine.settings)
            await ensure_events_stream(link.js, engine.settings.nats_replicas)
            stop = stop_on_signals(deadline=STOP_DEADLINE_SECONDS)
            board = board or StatusBoard()
            parts = {name: build(engine, link, board) for name, build in builds.items()}
            if before is not None:
                await asyncio.to_thread(before, engine)
            if banner:
                typer.echo(f"ks-engine running ({', '.join(parts)}) on {link.url}; Ctrl-C stops")
                if engine.settings.log_file is not None:
                    typer.echo(f"log lines (JSON) go to {engine.settings.log_file}")
            if announce:
                announce_saves(engine.referrals, link.nc)
                if "relay" in parts or "sealer" in parts:
                    await wake_on_saves(engine.referrals, link.nc)
                if "sealer" in parts:
                    engine.referrals.on_grown(engine.audit.sealer.seal_after_save)
            if not seal_here:
                engine.audit.sealer.leave_to_sealer_process()
            await asyncio.to_thread(engine.warm_up, opens_cases="intake" in parts)
            freeze_startup_heap()
            # A component that fails is restarted; a taken API address ends the process (exit 2).
            await Supervisor(parts, board, fatal=(CannotStartError,)).run(stop)
    except NatsNotConfiguredError as e:
        typer.echo(f"KS_NATS_URL is not set: {e}", err=True)
        raise typer.Exit(2) from None
    except CannotStartError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.close()


def run_alone(name: str, build: Build, *, in_ks_run: bool = False) -> None:
    """Run one component in this process, on KS_NATS_URL, telling the others of its saves.
    Started by `ks run` (``in_ks_run``), it prints no banner and leaves sealing to the
    sealer process `ks run` started beside it."""
    run_event_loop(
        serve(
            {name: build},
            embedded=False,
            announce=True,
            banner=not in_ks_run,
            seal_here=not in_ks_run or name == "sealer",
        )
    )


def process_main(name: str, build: Build, argv: Sequence[str] | None = None) -> None:
    """``python -m entrypoints.processes.<name>``: the component alone, as `ks run` starts it
    (``--in-ks-run``: no banner, `ks run` printed one)."""
    parser = argparse.ArgumentParser(prog=f"ks-{name}")
    parser.add_argument("--in-ks-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        run_alone(name, build, in_ks_run=args.in_ks_run)
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
