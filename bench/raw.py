"""Raw baselines: what eventsourcing on SQLite or PostgreSQL and nats-py/JetStream do alone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from uuid import UUID, uuid4

import nats
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from tests.postgres_server import PostgresDatabase


class Dossier(Aggregate):
    """A minimal aggregate, as small as the raw library allows."""

    @event("Opened")
    def __init__(self, municipality: str) -> None:
        self.municipality = municipality


class Dossiers(Application[UUID]):
    """A bare eventsourcing application."""


def eventsourcing_sqlite_rate(path: Path, count: int, per_transaction: int) -> float:
    """Aggregates created per second, ``per_transaction`` in each save."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    return _eventsourcing_rate(env, count, per_transaction)


def eventsourcing_postgres_rate(db: PostgresDatabase, count: int, per_transaction: int) -> float:
    """Aggregates created per second on PostgreSQL, ``per_transaction`` in each save."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": db.host,
        "POSTGRES_PORT": str(db.port),
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_USER": db.user,
        "POSTGRES_PASSWORD": db.password,
    }
    return _eventsourcing_rate(env, count, per_transaction)


def _eventsourcing_rate(env: dict[str, str], count: int, per_transaction: int) -> float:
    app = Dossiers(env=env)
    try:
        started = time.perf_counter()
        for _ in range(count // per_transaction):
            app.save(*[Dossier(municipality="GM0928") for _ in range(per_transaction)])
        return count / (time.perf_counter() - started)
    finally:
        app.close()


async def jetstream_publish_rate(url: str, count: int, size: int = 600) -> float:
    """Messages per second published with publish_async, every ack awaited."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"RAW_{uuid4().hex[:8]}"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    body = b"x" * size
    started = time.perf_counter()
    futures = [await js.publish_async(f"{stream}.m", body) for _ in range(count)]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await js.delete_stream(stream)
    await nc.close()
    return count / elapsed


async def jetstream_consume_rate(url: str, count: int, batch: int = 200, size: int = 600) -> float:
    """Messages per second fetched by a durable pull consumer and acked one by one."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"RAWC_{uuid4().hex[:8]}"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    body = b"x" * size
    futures = [await js.publish_async(f"{stream}.m", body) for _ in range(count)]
    await asyncio.gather(*futures)
    sub = await js.pull_subscribe(f"{stream}.>", durable="raw", stream=stream)
    started = time.perf_counter()
    done = 0
    while done < count:
        for msg in await sub.fetch(batch, timeout=5):
            await msg.ack()
            done += 1
    elapsed = time.perf_counter() - started
    await js.delete_stream(stream)
    await nc.close()
    return count / elapsed
