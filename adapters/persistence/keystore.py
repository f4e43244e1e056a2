"""Data keys in the event store's database (table ``personal_data_keys``), wrapped.

Each key is stored wrapped (AES-256-GCM) under a key derived from the event store's cipher
key, so the database file alone opens nothing. Destroying a key deletes its wrapped bytes and
keeps a tombstone (id and time), so that "erased" and "never existed" stay distinguishable.
Database failures surface as ``AuditDatabaseError``, an eventsourcing ``PersistenceError``:
the key store is unavailable exactly when the event store is.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapters.persistence.audit_tables import AuditDatabase
from ks_engine.keystore import KeyStoreError, UnknownKeyError
from ks_engine.time_ordered_ids import time_ordered_id

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS personal_data_keys ("
    " key_id TEXT PRIMARY KEY,"
    " wrapped BYTES,"
    " created_at TEXT NOT NULL,"
    " destroyed_at TEXT)"
)


def wrapping_key(cipher_key: bytes) -> bytes:
    """The key-wrapping key: derived from (never equal to) the event store's cipher key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ks-engine data-key wrapping v1"
    ).derive(cipher_key)


POOL_SIZE = 1000
_RANDOM_PER_KEY = 32 + 12 + 10  # the key, its wrapping's nonce, its id's random bits
READ_AHEAD_CHUNK = 400  # key ids per query (SQLite binds at most 999 values per statement)


class SqlKeyStore:
    """A KeyStore over the audit tables' database."""

    def __init__(self, db: AuditDatabase, wrap_key: bytes) -> None:
        self.db = db
        self._wrap = AESGCM(wrap_key)
        self._pool: list[tuple[str, bytes]] = []
        self._fresh: dict[str, bytes] = {}
        self._pool_lock = threading.Lock()
        self._local = threading.local()  # this thread's remembered keys, while ``remembering``
        with db.transaction(write=True) as tx:
            tx.execute(SCHEMA)

    def prepare(self) -> None:
        """Store the first ``POOL_SIZE`` keys now: about 20 ms on one core, otherwise paid by the
        first new case after a start."""
        with self._pool_lock:
            if not self._pool:
                self._pool = self._store_new_keys(POOL_SIZE)

    def create(self) -> str:
        """A new data key, stored before it is handed out. Keys are stored ``POOL_SIZE`` at a
        time, in one transaction, and handed out one by one: a key never handed out seals
        nothing, so one lost with a stopped process costs nothing."""
        with self._pool_lock:
            if not self._pool:
                self._pool = self._store_new_keys(POOL_SIZE)
            key_id, key = self._pool.pop()
            self._fresh[key_id] = key
        return key_id

    def _store_new_keys(self, count: int) -> list[tuple[str, bytes]]:
        created: list[tuple[str, bytes]] = []
        rows = []
        # Every key's random bytes from one read of the system's generator, not three each
        material = memoryview(secrets.token_bytes(count * _RANDOM_PER_KEY))
        created_at = _now()  # stored together, in one transaction
        for start in range(0, count * _RANDOM_PER_KEY, _RANDOM_PER_KEY):
            key = bytes(material[start : start + 32])
            nonce = bytes(material[start + 32 : start + 44])
            id_bits = int.from_bytes(material[start + 44 : start + _RANDOM_PER_KEY])
            key_id = str(time_ordered_id(random=id_bits))  # joins the end of the table's index
            rows.append(
                (key_id, nonce + self._wrap.encrypt(nonce, key, key_id.encode()), created_at)
            )
            created.append((key_id, key))
        with self.db.transaction(write=True) as tx:
            tx.executemany(
                "INSERT INTO personal_data_keys (key_id, wrapped, created_at) VALUES (?, ?, ?)",
                rows,
            )
        return created

    def get(self, key_id: str) -> bytes | None:
        with self._pool_lock:
            fresh = self._fresh.pop(key_id, None)  # just handed out: first use, no read needed
        remembered = self._remembered()
        if fresh is not None:
            if remembered is not None:
                remembered[key_id] = fresh
            return fresh
        if remembered is not None and key_id in remembered:
            return remembered[key_id]
        with self.db.transaction(write=False) as tx:
            row = tx.fetchone("SELECT wrapped FROM personal_data_keys WHERE key_id = ?", (key_id,))
        if row is None:
            raise UnknownKeyError(f"there is no data key {key_id}")
        key = self._unwrap(key_id, row[0])
        if remembered is not None:
            remembered[key_id] = key
        return key

    def _unwrap(self, key_id: str, stored: bytes | None) -> bytes | None:
        if stored is None:
            return None  # destroyed
        wrapped = bytes(stored)
        try:
            return self._wrap.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        except InvalidTag:
            raise KeyStoreError(
                f"data key {key_id} cannot be unwrapped: the cipher key is not the one it was "
                "stored under, or the key was altered"
            ) from None

    def _remembered(self) -> dict[str, bytes | None] | None:
        remembered: dict[str, bytes | None] | None = getattr(self._local, "keys", None)
        return remembered

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """This thread's reads within are read once and kept until the end (a unit of work
        of milliseconds: a key destroyed meanwhile is one it could equally have read just
        before). Nested, the outermost decides."""
        if self._remembered() is not None:
            yield
            return
        self._local.keys = {}
        try:
            yield
        finally:
            self._local.keys = None

    def read_ahead(self, key_ids: Iterable[str]) -> None:
        """Read the keys not yet remembered in one query per ``READ_AHEAD_CHUNK``."""
        remembered = self._remembered()
        if remembered is None:
            return
        with self._pool_lock:
            fresh = set(self._fresh)
        wanted = [k for k in dict.fromkeys(key_ids) if k not in remembered and k not in fresh]
        for start in range(0, len(wanted), READ_AHEAD_CHUNK):
            chunk = wanted[start : start + READ_AHEAD_CHUNK]
            marks = ",".join("?" * len(chunk))
            with self.db.transaction(write=False) as tx:
                rows = tx.fetchall(
                    f"SELECT key_id, wrapped FROM personal_data_keys WHERE key_id IN ({marks})",  # noqa: S608 - placeholders only
                    chunk,
                )
            for key_id, stored in rows:
                remembered[str(key_id)] = self._unwrap(str(key_id), stored)

    def destroy(self, key_id: str) -> bool:
        with self._pool_lock:
            self._fresh.pop(key_id, None)
        remembered = self._remembered()
        if remembered is not None:
            remembered.pop(key_id, None)
        with self.db.transaction(write=True) as tx:
            row = tx.fetchone("SELECT wrapped FROM personal_data_keys WHERE key_id = ?", (key_id,))
            if row is None:
                raise UnknownKeyError(f"there is no data key {key_id}")
            tx.execute(
                "UPDATE personal_data_keys SET wrapped = NULL, destroyed_at = ?"
                " WHERE key_id = ? AND wrapped IS NOT NULL",
                (_now(), key_id),
            )
        self.db.truncate_wal()
        return row[0] is not None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
