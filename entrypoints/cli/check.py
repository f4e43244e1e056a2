"""`ks check`: whether this process's settings reach NATS and the event store.

The health check of the worker containers (`ks intake`, `ks relay`, `ks project`): they serve
no HTTP, but what they need is the JetStream cluster and the database.
"""

from __future__ import annotations

import asyncio

import nats
import nats.errors
import typer
from nats.aio.client import Client

from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings

TIMEOUT_SECONDS = 3
# JetStream answers nothing while the cluster elects a new leader after losing a node; that takes
# seconds, so the check keeps asking within a budget that stays under the compose healthcheck's
# 15 s timeout rather than calling a healthy worker unhealthy.
JETSTREAM_BUDGET_SECONDS = 10


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
        return await _jetstream_problem(nc)
    finally:
        await nc.close()


async def _jetstream_problem(nc: Client) -> str | None:
    """None once JetStream answers within the budget; else the last reason it did not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + JETSTREAM_BUDGET_SECONDS
    while True:
        try:
            await nc.jetstream(timeout=TIMEOUT_SECONDS).account_info()
            return None
        except nats.errors.Error as e:
            problem = f"JetStream does not answer: {e or type(e).__name__}"
        if loop.time() + TIMEOUT_SECONDS > deadline:
            return problem
        await asyncio.sleep(0.5)


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
