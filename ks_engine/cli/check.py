"""`ks check`: whether this process's settings reach NATS and the event store.

The health check of the worker containers (`ks intake`, `ks relay`, `ks project`): they serve
no HTTP, but what they need is the JetStream cluster and the database.
"""

from __future__ import annotations

import asyncio

import nats
import nats.errors
import typer

from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings

TIMEOUT_SECONDS = 3


async def _nats_problem(settings: Settings) -> str | None:
    if not settings.nats_url:
        return "KS_NATS_URL is not set"

    async def quiet(exc: Exception) -> None:
        """The outcome is reported once, below; no traceback per attempt."""

    try:
        nc = await nats.connect(
            settings.nats_servers,
            name="ks-check",
            connect_timeout=TIMEOUT_SECONDS,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            error_cb=quiet,
            **nats_credentials(settings),
        )
    except (OSError, nats.errors.Error) as e:
        return f"NATS cannot be reached: {e or type(e).__name__}"
    try:
        await nc.jetstream(timeout=TIMEOUT_SECONDS).account_info()
    except nats.errors.Error as e:
        return f"JetStream does not answer: {e or type(e).__name__}"
    finally:
        await nc.close()
    return None


def _store_problem(settings: Settings) -> str | None:
    if settings.store != "postgres":
        return None  # SQLite and memory live in the process itself
    from adapters.persistence.postgres import PostgresUnavailableError, connect

    try:
        with connect(settings, connect_timeout=TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except PostgresUnavailableError as e:
        return str(e)
    return None


def check() -> None:
    """Exit 0 when NATS (JetStream) and the event store answer; else say why and exit 1."""
    settings = Settings()
    problems = [p for p in (asyncio.run(_nats_problem(settings)), _store_problem(settings)) if p]
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("ok: NATS and the event store answer")
