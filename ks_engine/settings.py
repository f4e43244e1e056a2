"""Settings from the environment (prefix ``KS_``); unsafe secrets refused in production."""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from domain.deadlines import ServiceLevels
from domain.expiry import ExpiryRule
from domain.region import Region
from ks_engine import private_file

SECRETS_DIR = Path("/run/secrets")


class SettingsError(Exception):
    """The settings are incomplete or unsafe for the chosen environment."""


class Settings(BaseSettings):
    """Everything an operator can set, read once by the composition root."""

    model_config = SettingsConfigDict(env_prefix="KS_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    store: Literal["memory", "sqlite", "postgres"] = "sqlite"
    sqlite_lock_timeout_seconds: int = Field(default=10, ge=1)
    pg_host: str = "127.0.0.1"
    pg_port: int = Field(default=5432, ge=1, le=65535)
    pg_dbname: str = Field(default="ks_engine", min_length=1, max_length=63)
    pg_user: str = Field(default="ks_engine", min_length=1, max_length=63)
    pg_password: SecretStr | None = None
    pg_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # Seconds to wait for a connection to PostgreSQL (the event store tries 10 times, the read
    # models wait one more second for their pool, before either reports failure).
    pg_connect_timeout_seconds: int = Field(default=2, ge=1)
    pseudonym_key: SecretStr | None = None
    cipher_key: SecretStr | None = None  # AES key (base64 of 16/24/32 bytes) for the event store
    signing_key: SecretStr | None = None  # Ed25519 key signing audit checkpoints (PEM or base64)
    audit_checkpoint_seconds: float = Field(default=300, gt=0)  # how often `ks run` signs one
    # Worker processes `ks audit verify` walks ranges of the log in (None: one per core).
    audit_verify_workers: int | None = Field(default=None, ge=1)
    retention_years: int = Field(default=5, ge=1)  # personal data kept after a case closed
    # An open case with no activity this long closes as `expired`; the queue warns before.
    expiry_months: int = Field(default=24, ge=1)
    expiry_warning_months: int = Field(default=2, ge=0)
    expiry_every_seconds: float = Field(default=24 * 3600, gt=0)  # how often `ks run` expires
    nats_url: str | None = None  # None: `ks run` starts an embedded nats-server
    # A cluster: its nodes' URLs separated by commas; the client fails over between them.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_replicas: int = Field(default=1, ge=1, le=5)
    embedded_nats_port: int = Field(default=4222, ge=1, le=65535)
    # The embedded nats-server's JetStream store cipher key (a cluster has its own, see
    # deploy/nats): letters and digits, starting with a letter, as nats-server reads it.
    nats_store_key: SecretStr | None = None
    partners_path: Path | None = None  # a partner registry: only its sources may signal
    signals_max_age_hours: float = Field(default=14 * 24, gt=0)  # unprocessed signals hold BSNs
    signals_duplicate_window_seconds: float = Field(default=120, gt=0)
    dlq_max_age_days: float = Field(default=30, gt=0)  # dead letters keep the original body
    receipts_max_age_days: float = Field(default=90, gt=0)
    # A partner reads its signals' feedback (GET /signals) from stream KS_FEEDBACK for this long.
    feedback_max_age_days: float = Field(default=400, gt=0)
    # Signals fetched, stored in one transaction and receipted together at most; fewer when
    # fewer wait. 500 rather than 200: about 15% less intake CPU per signal in a burst
    # (bench/NOTES.md).
    intake_batch_size: int = Field(default=500, ge=1, le=5000)
    intake_max_deliveries: int = Field(default=5, ge=1)
    intake_ack_wait_seconds: float = Field(default=30, gt=0)
    intake_retry_delay_seconds: float = Field(default=2, ge=0)
    catalogue_path: Path | None = None
    region_path: Path | None = None  # the region (YAML/JSON); default: Zuid-Limburg, shipped
    principals_path: Path | None = None  # API principals; default <data_dir>/principals.json
    token_days: float = Field(default=90, gt=0)  # a bearer token stops working after this
    token_grace_days: float = Field(default=7, ge=0)  # a rotated token's old one works this long
    api_host: str = "127.0.0.1"  # loopback unless an operator opens it up
    api_port: int = Field(default=8000, ge=1, le=65535)
    # Processes answering the API's requests on its one port (each with its own engine).
    api_workers: int = Field(default=2, ge=1, le=64)
    # Intake processes `ks run` starts on the intake's one consumer; they take turns at storing
    # a batch, one judging the next batch while the other stores (bench/NOTES.md).
    intake_processes: int = Field(default=2, ge=1, le=8)
    # Processes beside the relay's that read and translate the log's windows (bench/NOTES.md).
    relay_translators: int = Field(default=2, ge=1, le=16)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # People sign in to the dashboard at their organisation's OpenID Connect provider when an
    # issuer is set (tokens keep working for systems); see README, "Sign-in for people".
    oidc_issuer: str | None = None
    oidc_client_id: str = "ks-engine"
    oidc_client_secret: SecretStr | None = None
    oidc_groups_claim: str = "groups"
    public_url: str | None = None  # e.g. https://knooppunt.gemeente.nl; default the API address
    session_idle_minutes: float = Field(default=30, gt=0)
    session_max_hours: float = Field(default=10, gt=0)
    # JSON log lines to this file instead of stderr (`make run` keeps its console for people).
    log_file: Path | None = None
    consent_request_working_days: int = Field(default=5, ge=1)
    consent_answer_days: int = Field(default=10, ge=1)
    discussion_days: int = Field(default=10, ge=1)
    support_days: int = Field(default=10, ge=1)
    support_start_days: int = Field(default=20, ge=1)
    evaluation_months: int = Field(default=3, ge=1, le=24)
    closing_days: int = Field(default=20, ge=1)
    reopen_months: int = Field(default=6, ge=0, le=60)
    monitoring_threshold: int = Field(default=10, ge=0)  # smaller cells are suppressed
    monitoring_rounding_base: int = Field(default=5, ge=1)  # small totals rounded up to it
    monitoring_protection: int = Field(default=3, ge=1)  # least width a hidden count keeps
    births_path: Path | None = None  # CBS StatLine births CSV; development: illustrative demo

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then secret files when SECRETS_DIR exists.

        A secret file is named after its variable in lower case, as Docker and Compose mount
        `secrets`: /run/secrets/ks_pg_password holds KS_PG_PASSWORD.
        """
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if SECRETS_DIR.is_dir():
            sources += (SecretsSettingsSource(settings_cls, secrets_dir=SECRETS_DIR),)
        return sources

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment == "production":
            key = self.pseudonym_key.get_secret_value() if self.pseudonym_key else ""
            if len(key) < 32:
                raise SettingsError(
                    "KS_PSEUDONYM_KEY must be set to a random secret of at least 32 characters "
                    "in production (generate one with: ks keys new)"
                )
            if self.cipher_key is None or not _is_aes_key(self.cipher_key.get_secret_value()):
                raise SettingsError(
                    "KS_CIPHER_KEY must be set to a base64 AES key of 16, 24 or 32 bytes in "
                    "production (generate one with: ks keys new)"
                )
            if self.signing_key is None or not _is_signing_key(self.signing_key.get_secret_value()):
                raise SettingsError(
                    "KS_SIGNING_KEY must be set to an Ed25519 private key (PEM, or base64 of the "
                    "PEM or of the 32 raw bytes) in production (generate one with: ks keys new)"
                )
            if self.nats_url is None and self.nats_store_key is None:
                raise SettingsError(
                    "KS_NATS_STORE_KEY must be set in production when ks-engine starts its own "
                    "nats-server (no KS_NATS_URL): it encrypts the JetStream store "
                    "(generate one with: ks keys new)"
                )
        return self

    @model_validator(mode="after")
    def _nats_store_key_is_readable(self) -> Settings:
        key = self.nats_store_key.get_secret_value() if self.nats_store_key else None
        if key is not None and not _is_nats_store_key(key):
            raise SettingsError(
                "KS_NATS_STORE_KEY must be at least 32 letters and digits starting with a letter "
                "(nats-server reads other values as numbers or syntax); generate one with: "
                "ks keys new"
            )
        return self

    @model_validator(mode="after")
    def _production_postgres_needs_password(self) -> Settings:
        password = self.pg_password.get_secret_value() if self.pg_password else ""
        if self.environment == "production" and self.store == "postgres" and not password:
            raise SettingsError("KS_PG_PASSWORD must be set when KS_STORE=postgres in production")
        return self

    def store_environment(self) -> dict[str, str]:
        """The ``KS_*`` variables that give a ``ks`` process this data directory and store."""
        env = {"KS_DATA_DIR": str(self.data_dir), "KS_STORE": self.store}
        if self.store == "postgres":
            password = self.pg_password.get_secret_value() if self.pg_password else ""
            env.update(
                KS_PG_HOST=self.pg_host,
                KS_PG_PORT=str(self.pg_port),
                KS_PG_DBNAME=self.pg_dbname,
                KS_PG_USER=self.pg_user,
                KS_PG_PASSWORD=password,
                KS_PG_SCHEMA=self.pg_schema,
            )
        return env

    @property
    def effective_nats_url(self) -> str:
        """The configured server, or the embedded one `ks run` starts on loopback."""
        return self.nats_url or f"nats://127.0.0.1:{self.embedded_nats_port}"

    @property
    def nats_servers(self) -> list[str]:
        """The server URLs of KS_NATS_URL (one, or a cluster's nodes separated by commas)."""
        return [url.strip() for url in self.effective_nats_url.split(",") if url.strip()]

    @property
    def nats_store_dir(self) -> Path:
        return self.data_dir / "nats"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def principals_file(self) -> Path:
        return self.principals_path or self.data_dir / "principals.json"

    @property
    def identity_map_file(self) -> Path:
        """Which people of which identity provider may sign in, as what (`ks principals map`)."""
        return self.principals_file.with_name("identity-map.json")

    @property
    def person_sessions_file(self) -> Path:
        return self.data_dir / "sessions.sqlite"

    @property
    def effective_public_url(self) -> str:
        """How browsers reach the API (the OpenID Connect redirect URI is built on it)."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def region(self) -> Region:
        """The configured region (read once per file; RegionFileError when it is not valid)."""
        from ks_engine.region_file import load_region

        return load_region(self.region_path)

    @property
    def expiry(self) -> ExpiryRule:
        """The inactivity expiry rule these settings give."""
        return ExpiryRule(months=self.expiry_months, warning_months=self.expiry_warning_months)

    @property
    def service_levels(self) -> ServiceLevels:
        """The KS_* days per step, with the region's own days per municipality attached."""
        defaults = ServiceLevels(
            consent_request_working_days=self.consent_request_working_days,
            consent_answer_days=self.consent_answer_days,
            discussion_days=self.discussion_days,
            support_days=self.support_days,
            support_start_days=self.support_start_days,
            evaluation_months=self.evaluation_months,
            closing_days=self.closing_days,
            reopen_months=self.reopen_months,
        )
        return self.region.service_levels(defaults)

    def pseudonym_key_bytes(self) -> bytes:
        """The pseudonym key; in development a random one kept in the data directory."""
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode()
        return base64.b64decode(_development_secrets(self.data_dir)["pseudonym_key"])

    def cipher_key_text(self) -> str:
        """The event store's AES key; in development a random one kept in the data directory."""
        if self.cipher_key is not None:
            return self.cipher_key.get_secret_value()
        return _development_secrets(self.data_dir)["cipher_key"]

    def nats_store_key_text(self) -> str:
        """The embedded nats-server's store key; in development a random one kept in the data
        directory (the store is encrypted there too, so switching to production keeps it)."""
        if self.nats_store_key is not None:
            return self.nats_store_key.get_secret_value()
        return _development_secrets(self.data_dir)["nats_store_key"]

    def signing_key_text(self) -> str:
        """The audit signing key; in development a random one kept in the data directory."""
        if self.signing_key is not None:
            return self.signing_key.get_secret_value()
        return _development_secrets(self.data_dir)["signing_key"]


# The random secrets of a data directory whose settings set none (development, the demo)
DEVELOPMENT_SECRETS = "development-secrets.json"


def new_secrets() -> dict[str, str]:
    """Fresh random secrets: a pseudonym key, an AES-256 key for the event store, an
    Ed25519 key (base64 of its 32 raw bytes) for signing audit checkpoints and a key for the
    embedded nats-server's JetStream store (256 random bits as letters and digits)."""
    return {
        "pseudonym_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "cipher_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "signing_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "nats_store_key": "k" + secrets.token_hex(32),
    }


def _is_nats_store_key(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9]{31,}", text) is not None


def _is_signing_key(text: str) -> bool:
    from ks_engine.audit.signing import SigningKeyError, load_signing_key

    try:
        load_signing_key(text)
    except SigningKeyError:
        return False
    return True


def _is_aes_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) in (16, 24, 32)
    except ValueError:
        return False


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Random development secrets, created once per data directory (mode 0600).

    The processes of `ks run` (or `ks intake`, `ks relay`, ... started together) may all find
    a new data directory without them: one process makes them, under the file's lock, and
    every other one reads what it made. The file is replaced whole, so it is never read half
    written. A data directory from before a secret existed gets that secret added, once, the
    others kept."""
    path = data_dir / DEVELOPMENT_SECRETS
    found = _read_secrets(path)
    if found is not None and new_secrets().keys() <= found.keys():
        return found
    with private_file.locked(path):
        kept = _read_secrets(path) or {}
        missing = {k: v for k, v in new_secrets().items() if k not in kept}
        if missing:
            private_file.replace(path, json.dumps(kept | missing))
        return kept | missing


def _read_secrets(path: Path) -> dict[str, str] | None:
    """The development secrets kept at ``path``; None when there is no such file."""
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        loaded = None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        # Never made anew: what was encrypted, pseudonymised or signed with them would be lost
        raise SettingsError(
            f"the development secrets in {path} cannot be read; restore the file from a backup"
        )
    return loaded
