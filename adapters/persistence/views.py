"""Where the read models live, chosen by the settings: the embedded SQLite file by default,
the PostgreSQL server of the event store with ``KS_STORE=postgres``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ks_engine.settings import Settings
from projections.store import ViewDatabase


def open_views(settings: Settings) -> ViewDatabase:
    """The read models' database (with their checkpoints) for these settings."""
    if settings.store == "postgres":
        # psycopg is imported only when PostgreSQL is configured
        from adapters.persistence.postgres_views import PostgresViewDatabase

        return PostgresViewDatabase(settings)
    from adapters.persistence.sqlite_views import open_sqlite_views

    return open_sqlite_views(settings)


def close_views(db: ViewDatabase) -> None:
    """Close the database's pooled connections (PostgreSQL); SQLite opens per thread."""
    close = getattr(db, "close", None)
    if close is not None:
        close()


@contextmanager
def opened_views(settings: Settings) -> Iterator[ViewDatabase]:
    """``open_views`` for one piece of work (a command): closed when the block ends, so no
    pool and its worker thread outlive it."""
    db = open_views(settings)
    try:
        yield db
    finally:
        close_views(db)
