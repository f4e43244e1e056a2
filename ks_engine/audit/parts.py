"""The audit trail's and the key store's parts, built from settings for the composition root."""

from __future__ import annotations

import base64
import importlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application

from adapters.persistence.audit_chain import SqlChainStore, events_table
from adapters.persistence.audit_tables import (
    AuditDatabase,
    PostgresAuditDatabase,
    SqliteAuditDatabase,
)
from adapters.persistence.keystore import SqlKeyStore, wrapping_key
from ks_engine.audit.sealer import Sealer
from ks_engine.audit.signing import load_signing_key
from ks_engine.keystore import PersonalDataVault
from ks_engine.settings import Settings


def open_audit_database(settings: Settings) -> AuditDatabase:
    """The database of the audit chain and the data keys: the event store's own."""
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteAuditDatabase(
            settings.sqlite_path, busy_timeout=settings.sqlite_lock_timeout_seconds
        )
    if settings.store == "memory":
        return SqliteAuditDatabase(None)
    # KS_STORE=postgres: the same server, schema and credentials as the event store.
    postgres = importlib.import_module("adapters.persistence.postgres")
    return PostgresAuditDatabase(postgres.pool(settings, name="ks-audit", max_size=4))


def personal_data_vault(settings: Settings, db: AuditDatabase) -> PersonalDataVault:
    """The vault sealing personal details under data keys kept in ``db``, wrapped."""
    if settings.store == "memory":  # nothing outlives the process: a random wrapping key
        wrap = secrets.token_bytes(32)
    else:
        wrap = wrapping_key(base64.b64decode(settings.cipher_key_text()))
    return PersonalDataVault(SqlKeyStore(db, wrap))


@dataclass
class Audit:
    """The audit trail's running parts."""

    db: AuditDatabase
    chain: SqlChainStore
    sealer: Sealer
    signing_key: Ed25519PrivateKey

    def close(self) -> None:
        self.db.close()


def build_audit(settings: Settings, app: Application[UUID], db: AuditDatabase) -> Audit:
    """The chain store and the sealer of ``app``'s notification log, on ``db``."""
    key = load_signing_key(settings.signing_key_text())
    store = SqlChainStore(db, events_table(app.recorder, db))
    return Audit(db=db, chain=store, sealer=Sealer(app, store, key), signing_key=key)
