"""Connections to the PostgreSQL server of ``KS_STORE=postgres``, for the event store and views.

The event store opens its own pool (eventsourcing's PostgreSQL persistence); read models and
the audit tables (chain, keys) open theirs with :func:`pool`, on the same server and schema.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from ks_engine.settings import Settings

# Any fixed number will do: every ks-engine process takes the same lock before creating tables.
_SCHEMA_LOCK_KEY = 0x6B73_656E_6769_6E65  # "ksengine"


class PostgresUnavailableError(Exception):
    """The PostgreSQL server cannot be reached or refused the configured user."""


def conninfo(settings: Settings) -> str:
    """A libpq connection string for the configured server, searching the configured schema."""
    password = settings.pg_password.get_secret_value() if settings.pg_password else ""
    return make_conninfo(
        host=settings.pg_host,
        port=settings.pg_port,
        dbname=settings.pg_dbname,
        user=settings.pg_user,
        password=password,
        options=f"-c search_path={settings.pg_schema}",
        application_name="ks-engine",
        connect_timeout=settings.pg_connect_timeout_seconds,
    )


def connect(settings: Settings, **kwargs: Any) -> psycopg.Connection[Any]:
    """A new connection (keyword arguments go to ``psycopg.connect``, e.g. ``autocommit``)."""
    try:
        return psycopg.connect(conninfo(settings), **kwargs)
    except psycopg.OperationalError as exc:
        raise PostgresUnavailableError(
            f"cannot connect to PostgreSQL database {settings.pg_dbname!r} on "
            f"{settings.pg_host}:{settings.pg_port} as {settings.pg_user!r}: "
            f"{_first_line(exc)}"
        ) from None


# A connection handed out this recently is handed out again after a look at its socket; one
# that lay idle longer is checked with a round trip to the server.
CHECK_IDLE_AFTER_SECONDS = 1.0


def _check_if_idle(conn: psycopg.Connection[Any]) -> None:
    """Check with a round trip (``ConnectionPool.check_connection``, which fails on a broken
    connection so that the pool replaces it) a connection not handed out in the last second,
    or whose socket has something to read while no query is out: the server closed it (a
    restart) or sent a message. A recently used connection with a quiet socket is handed out
    without the round trip."""
    now = time.monotonic()
    last = getattr(conn, "_ks_handed_out_at", None)
    if last is None or now - last > CHECK_IDLE_AFTER_SECONDS or _readable(conn):
        ConnectionPool.check_connection(conn)
    conn._ks_handed_out_at = now  # type: ignore[attr-defined]


def _readable(conn: psycopg.Connection[Any]) -> bool:
    """Whether the connection's socket has data or an end of file waiting (no waiting)."""
    try:
        poller = select.poll()
        poller.register(conn.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, psycopg.OperationalError):  # no socket any more: broken
        return True


def drop_after_failure(conn: psycopg.Connection[Any]) -> None:
    """End a pooled connection whose transaction failed: closed, the server rolls its
    transaction back and the pool replaces it with a new connection.

    Not rolled back and reused: psycopg keeps a record of the statements it prepared on each
    connection, and after failed transactions in pipeline mode that record was seen out of step
    with the server's (two intakes racing on the audit tables). Every later use of the
    statement on that connection then failed with "prepared statement does not exist", until
    the signals stored with it went to the dead letters. A new connection starts with none."""
    conn.close()


def pool(
    settings: Settings, *, name: str, max_size: int
) -> ConnectionPool[psycopg.Connection[Any]]:
    """A small open pool of autocommit connections, each checked before it is handed out
    when it lay idle (see :func:`_check_if_idle`).

    The check replaces a connection broken by a server restart instead of using it; threads
    never share a connection.
    """
    return ConnectionPool(
        conninfo(settings),
        kwargs={"autocommit": True},
        min_size=0,
        max_size=max_size,
        num_workers=1,
        check=_check_if_idle,
        timeout=settings.pg_connect_timeout_seconds + 1.0,
        name=name,
        open=True,
    )


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Hold the schema-creation lock, with the configured schema created if missing.

    Components starting at the same moment would otherwise race on ``CREATE TABLE IF NOT
    EXISTS``, which PostgreSQL does not make safe against concurrent creators.
    """
    # The lock is held by this session: closing the connection releases it, also on errors.
    with connect(settings, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))
        exists = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (settings.pg_schema,)
        ).fetchone()
        if exists is None:
            # Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when
            # the schema exists, and a deployment may have created it for a less privileged user.
            conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(settings.pg_schema)))
        yield


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
