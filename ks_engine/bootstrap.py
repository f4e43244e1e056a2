"""The composition root: the one place where settings become running parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import Application

from adapters.persistence.existing import existing_originators, originators_numbered
from adapters.persistence.read_many import events_after, latest_events
from domain.blind_index import NameIndex
from domain.catalogue import Catalogue
from domain.pseudonym import pseudonymise
from domain.signal_record import case_id_secret
from domain.working_days import load_calendar
from ks_engine.application import Referrals
from ks_engine.audit.chain import ChainStore
from ks_engine.audit.parts import Audit, build_audit, open_audit_database, personal_data_vault
from ks_engine.batch_reads import BatchReads
from ks_engine.catalogue_file import load_catalogue
from ks_engine.clock import now
from ks_engine.log import configure_logging
from ks_engine.settings import Settings
from ks_engine.signal_rules import SignalRules

if TYPE_CHECKING:
    from adapters.nats.relay_position import PositionRecord
    from adapters.persistence.store_turns import StoreTurns


@dataclass
class Engine:
    """The wired parts of ks-engine, handed to the CLI and the adapters."""

    settings: Settings
    referrals: Referrals
    pseudonym_key: bytes
    audit: Audit

    def signal_rules(self) -> SignalRules:
        """What the intake takes: signals for the region's municipalities that run a Knooppunt,
        with dates judged on the engine's clock."""
        return SignalRules.serving(self.settings.region.knooppunten, self.referrals.clock)

    def pseudonymise(self, bsn: str) -> str:
        """The keyed pseudonym of a BSN; the BSN itself goes no further."""
        return pseudonymise(bsn, self.pseudonym_key)

    def relay_position(self) -> PositionRecord:
        """The relay's tracking record on the configured store: beside the read models on
        PostgreSQL, a SQLite file in the data directory, or in memory for the memory store."""
        from adapters.nats.relay_position import RelayPosition, relay_position_path

        if self.settings.store == "postgres":
            from adapters.persistence.postgres_views import (
                PostgresRelayPosition,
                PostgresViewDatabase,
            )

            return PostgresRelayPosition(PostgresViewDatabase(self.settings))
        if self.settings.store == "memory":
            return RelayPosition(None)
        return RelayPosition(relay_position_path(self.settings.data_dir))

    def store_turns(self) -> StoreTurns:
        """Turns at storing signals among the intakes on this store (see
        ``adapters.persistence.store_turns``)."""
        from adapters.persistence import store_turns

        if self.settings.store == "postgres":
            from adapters.persistence.postgres import connect

            settings = self.settings
            return store_turns.PostgresTurns(lambda: connect(settings, autocommit=True))
        if self.settings.store == "memory":
            return store_turns.NoTurns()
        return store_turns.FileTurns(self.settings.sqlite_path.with_suffix(".intake-turns"))

    def warm_up(self, *, opens_cases: bool) -> None:
        """Load now what the first event after a start would otherwise wait for (a long-running
        process calls this before it takes work): the Dutch calendar of the deadlines and, in a
        process that ``opens_cases`` (the intake), a first pool of data keys. Without it the
        first signal after a start took 100-230 ms instead of about 10 ms (bench/NOTES.md)."""
        load_calendar(self.referrals.clock().date())
        if opens_cases:
            self.referrals.vault.keys.prepare()

    def close(self) -> None:
        self.referrals.close()
        self.audit.close()


def event_store_env(settings: Settings) -> dict[str, str]:
    """eventsourcing's persistence settings for the configured store.

    Stored events are encrypted at rest (AES-GCM) on every store but the in-memory one.
    """
    if settings.store == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.store == "postgres":
        return {
            "CIPHER_TOPIC": "adapters.persistence.cipher:AesGcmCipher",
            "CIPHER_KEY": settings.cipher_key_text(),
            # eventsourcing's PostgreSQL store, inserting stored events in binary
            "PERSISTENCE_MODULE": "adapters.persistence.event_store_postgres:Factory",
            "POSTGRES_HOST": settings.pg_host,
            "POSTGRES_PORT": str(settings.pg_port),
            "POSTGRES_DBNAME": settings.pg_dbname,
            "POSTGRES_USER": settings.pg_user,
            "POSTGRES_PASSWORD": settings.pg_password.get_secret_value()
            if settings.pg_password
            else "",
            "POSTGRES_SCHEMA": settings.pg_schema,
            "POSTGRES_CONNECT_TIMEOUT": str(settings.pg_connect_timeout_seconds),
            # No pre-ping: after a server restart a broken pooled connection fails once and the
            # store retries on a new one, where pre-ping's backoff delayed the first use by ~30 s.
            "CREATE_TABLE": "y",
        }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "CIPHER_TOPIC": "adapters.persistence.cipher:AesGcmCipher",
        "CIPHER_KEY": settings.cipher_key_text(),
        "PERSISTENCE_MODULE": "adapters.persistence.event_store_sqlite:Factory",
        "SQLITE_DBNAME": str(settings.sqlite_path),
        "SQLITE_LOCK_TIMEOUT": str(settings.sqlite_lock_timeout_seconds),
    }


def _schema_lock(settings: Settings) -> AbstractContextManager[None]:
    """On PostgreSQL, tables are created under a lock that all ks-engine processes share."""
    if settings.store != "postgres":
        return nullcontext()
    from adapters.persistence.postgres import schema_lock  # psycopg only when configured

    return schema_lock(settings)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = now,
    catalogue: Catalogue | None = None,
    configure_logs: bool = True,
    seal_own_writes: bool = True,
) -> Engine:
    """Build the engine from settings (read from the environment when not given).

    ``seal_own_writes=False``: this engine's saves are not sealed into the audit chain right
    after commit; another process seals them (the HTTP API's worker processes leave their
    access-log entries to the process that started them, whose sealer also polls the log)."""
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format, settings.log_file)
    with _schema_lock(settings):
        audit_db = open_audit_database(settings)
        referrals = Referrals(
            event_store_env(settings),
            catalogue=catalogue or load_catalogue(settings.catalogue_path),
            service_levels=settings.service_levels,
            clock=clock,
            existing=existing_originators,
            batch_reads=BatchReads(events_after=events_after, latest=latest_events),
            numbered=originators_numbered,
            vault=personal_data_vault(settings, audit_db),
            region=settings.region,
        )
        audit = build_audit(settings, referrals, audit_db)
    referrals.name_index = NameIndex(settings.pseudonym_key_bytes())  # search by name
    referrals.case_id_secret = case_id_secret(settings.pseudonym_key_bytes())
    if seal_own_writes:
        referrals.on_recorded(audit.sealer.seal_after_save)  # every writer seals its own events
    return Engine(
        settings=settings,
        referrals=referrals,
        pseudonym_key=settings.pseudonym_key_bytes(),
        audit=audit,
    )


@contextmanager
def reading_parts(settings: Settings) -> Iterator[Referrals]:
    """The event store of ``settings``, for a reader in another process (the relay's
    windows): it stores nothing, so it seals nothing."""
    engine = bootstrap(settings, configure_logs=False, seal_own_writes=False)
    try:
        yield engine.referrals
    finally:
        engine.close()


@contextmanager
def verifying_parts(settings: Settings) -> Iterator[tuple[Application[UUID], ChainStore]]:
    """The event store and the chain of ``settings``, for a verifier in another process."""
    engine = bootstrap(settings, configure_logs=False)
    try:
        yield engine.referrals, engine.audit.chain
    finally:
        engine.close()
