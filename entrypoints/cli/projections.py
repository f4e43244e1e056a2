"""`ks projections rebuild|status` and `ks stats`: the read models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from typing import Annotated

import nats
import nats.errors
import typer
from nats.js import JetStreamContext

from adapters.nats.projectors import status
from adapters.nats.rebuild import rebuild_views
from adapters.persistence.views import opened_views
from ks_engine.runtime import nats_credentials, run_event_loop
from ks_engine.settings import Settings
from projections.errors import ProjectionError, UnknownProjectionError, ViewDatabaseError
from projections.monitoring_store import Monitoring, MonitoringRow, to_csv
from projections.read_models import build_projections, select
from projections.store import install


def require_nats_url(settings: Settings) -> Settings:
    """The settings when KS_NATS_URL is set, or exit with a message saying how to set it."""
    if not settings.nats_url:
        typer.echo(
            "KS_NATS_URL is not set: set it to the NATS server or cluster the engine uses "
            "(e.g. KS_NATS_URL=nats://127.0.0.1:4222)",
            err=True,
        )
        raise typer.Exit(2)
    return settings


@asynccontextmanager
async def jetstream(settings: Settings) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on KS_NATS_URL; a clear exit when the server cannot be reached."""

    async def quiet(_: Exception) -> None:
        """Connection errors are reported once, below, not as a traceback per attempt."""

    try:
        # A few quick attempts first: an unreachable server is reported within seconds.
        nc = await nats.connect(
            settings.nats_servers,
            name="ks-engine",
            connect_timeout=5,
            max_reconnect_attempts=2,
            reconnect_time_wait=1,
            error_cb=quiet,
            **nats_credentials(settings),
        )
    except (OSError, nats.errors.Error) as e:
        typer.echo(
            f"cannot reach the NATS server at {settings.effective_nats_url} (KS_NATS_URL): "
            f"{type(e).__name__}",
            err=True,
        )
        raise typer.Exit(1) from None
    # Once connected, a long command (a rebuild) rides out a server restart.
    nc.options["max_reconnect_attempts"] = -1
    try:
        yield nc.jetstream()
    finally:
        await nc.drain()


@contextmanager
def views_reachable() -> Iterator[None]:
    """Exit with the read-model database's error in words (unreachable, refused) instead of
    a traceback."""
    try:
        yield
    except ViewDatabaseError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None


app = typer.Typer(no_args_is_help=True, help="Read models: rebuild and status.")


async def _rebuild(settings: Settings, name: str | None) -> None:
    try:
        chosen = select(build_projections(settings.service_levels), name)
    except UnknownProjectionError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    with opened_views(settings) as db:
        async with jetstream(require_nats_url(settings)) as js:
            try:
                last = await rebuild_views(js, db, chosen)
            except ProjectionError as e:
                typer.echo(str(e), err=True)
                raise typer.Exit(1) from None
    for projection in chosen:
        typer.echo(f"rebuilt {projection.name} up to stream message {last}")


@app.command("rebuild")
def rebuild(
    name: str | None = typer.Argument(
        None, help="work_queue, case_view or monitoring; all if empty"
    ),
) -> None:
    """Rebuild read models from the start of KS_EVENTS (stop `ks project` first)."""
    with views_reachable():
        run_event_loop(_rebuild(Settings(), name))


async def _status(settings: Settings) -> None:
    projections = build_projections(settings.service_levels)
    with opened_views(settings) as db:
        install(db, projections)
        if settings.nats_url:
            async with jetstream(settings) as js:
                rows = await status(js, db, projections)
        else:
            rows = await status(None, db, projections)
    typer.echo(f"{'read model':<12} {'stream seq':>10} {'position':>9} {'lag':>6}  updated")
    for r in rows:
        lag = "?" if r.lag is None else str(r.lag)
        typer.echo(
            f"{r.name:<12} {r.stream_seq:>10} {r.position:>9} {lag:>6}  {r.updated_at or '-'}"
        )
    if not settings.nats_url:
        typer.echo("lag unknown: KS_NATS_URL is not set", err=True)


@app.command("status")
def status_command() -> None:
    """Each read model's position in KS_EVENTS and the log, and its lag behind the stream."""
    with views_reachable():
        asyncio.run(_status(Settings()))


def _table(rows: list[MonitoringRow], threshold: int) -> str:
    lines = [f"{'municipality':<12} {'month':<7} {'measure':<20} {'category':<26} value"]
    for r in rows:
        value = f"<{threshold}" if r.suppressed else f"{r.value:g}"
        lines.append(f"{r.municipality:<12} {r.month:<7} {r.measure:<20} {r.category:<26} {value}")
    return "\n".join(lines)


def stats(
    csv: Annotated[bool, typer.Option("--csv", help="CSV on standard output.")] = False,
    municipality: Annotated[
        list[str] | None, typer.Option(help="GM code; repeat the option for more.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="First month, as a date YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Last month, as a date YYYY-MM-DD.")] = None,
) -> None:
    """Monitoring figures per municipality and month; cells below the threshold suppressed."""
    settings = Settings()
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        typer.echo("--since and --until take a date written as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    with views_reachable(), opened_views(settings) as db:
        install(db, build_projections(settings.service_levels))
        rows = Monitoring(db, settings.monitoring_threshold).rows(municipality or None, first, last)
    typer.echo(to_csv(rows) if csv else _table(rows, settings.monitoring_threshold), nl=not csv)


def register(root: typer.Typer) -> None:
    """Add `ks stats` and `ks projections ...` to the root command."""
    root.command()(stats)
    root.add_typer(app, name="projections")
