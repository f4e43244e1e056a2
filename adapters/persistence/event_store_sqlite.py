"""eventsourcing's SQLite event store, whose pooled connections never stay in a failed
transaction.

eventsourcing ends a transaction with ``commit()`` or ``rollback()`` on its pooled connection.
When SQLite refuses the COMMIT (a busy or full file, a deferred constraint), the transaction
stays open and the connection goes back to the pool that way: every later transaction on it
fails with "cannot start a transaction within a transaction", and a write keeps the file's
write lock from the other processes. Here such a connection is rolled back, or closed (a
closed connection is not put back in the pool) when even that fails
(``adapters.persistence.sqlite_transaction``). Each connection copies the write-ahead log
into the file less often than SQLite's default (``adapters.persistence.sqlite_wal``).
Everything else is eventsourcing's.
``event_store_env`` names ``Factory`` as the persistence module on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory
from eventsourcing.utils import Environment, EnvType

from adapters.persistence.sqlite_transaction import roll_back
from adapters.persistence.sqlite_wal import checkpoint_event_store_less_often


class EndingConnection(SQLiteConnection):
    """A pooled connection whose failed COMMIT or ROLLBACK still ends its transaction."""

    def commit(self) -> None:
        self._ending(super().commit)

    def rollback(self) -> None:
        self._ending(super().rollback)

    def _ending(self, end: Callable[[], None]) -> None:
        try:
            end()
        except BaseException:
            roll_back(self._sqlite_conn, self.close)
            raise


class EndingConnectionPool(SQLiteConnectionPool):
    """eventsourcing's pool of SQLite connections, handing out ``EndingConnection``."""

    def _create_connection(self) -> SQLiteConnection:
        made = super()._create_connection()
        if not self.is_sqlite_memory_mode:
            checkpoint_event_store_less_often(made._sqlite_conn)
        return EndingConnection(sqlite_conn=made._sqlite_conn, max_age=self.max_age)


class Factory(SQLiteFactory):
    """eventsourcing's SQLite persistence with ``EndingConnectionPool``."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        made = self.datastore.pool
        self.datastore.pool = EndingConnectionPool(
            db_name=made.db_name,
            lock_timeout=made.lock_timeout,
            pool_size=made.pool_size,
            max_overflow=made.max_overflow,
            pool_timeout=made.pool_timeout,
            max_age=made.max_age,
            pre_ping=made.pre_ping,
        )
        made.close()
