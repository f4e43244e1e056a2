"""KS_STORE=postgres: the KS_PG_* settings and what they become for the event store."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from ks_engine.bootstrap import event_store_env
from ks_engine.settings import Settings, SettingsError


def test_pg_settings_from_the_environment_become_eventsourcing_postgres_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "KS_STORE": "postgres",
        "KS_PG_HOST": "db.internal",
        "KS_PG_PORT": "5433",
        "KS_PG_DBNAME": "knooppunt",
        "KS_PG_USER": "ks",
        "KS_PG_PASSWORD": "s3cret-value",
        "KS_PG_SCHEMA": "ks_engine",
        "KS_CIPHER_KEY": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()

    assert "s3cret-value" not in repr(settings)
    env = event_store_env(settings)
    assert env["PERSISTENCE_MODULE"] == "adapters.persistence.event_store_postgres:Factory"
    assert env["CIPHER_TOPIC"] == "adapters.persistence.cipher:AesGcmCipher"  # at rest
    assert env["CIPHER_KEY"] == "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0="
    assert {k: env[k] for k in env if k.startswith("POSTGRES_") or k == "CREATE_TABLE"} == {
        "POSTGRES_HOST": "db.internal",
        "POSTGRES_PORT": "5433",
        "POSTGRES_DBNAME": "knooppunt",
        "POSTGRES_USER": "ks",
        "POSTGRES_PASSWORD": "s3cret-value",
        "POSTGRES_SCHEMA": "ks_engine",
        "POSTGRES_CONNECT_TIMEOUT": "2",
        "CREATE_TABLE": "y",
    }


def test_production_on_postgres_needs_a_password() -> None:
    keys = {
        "pseudonym_key": "k" * 40,
        "cipher_key": base64.b64encode(bytes(32)).decode(),
        "signing_key": base64.b64encode(bytes(range(32))).decode(),  # audit checkpoints
        "nats_store_key": "k" * 40,  # the embedded nats-server's store
    }
    with pytest.raises(SettingsError, match="KS_PG_PASSWORD"):
        Settings.model_validate({"environment": "production", "store": "postgres", **keys})
    settings = Settings.model_validate(
        {"environment": "production", "store": "postgres", "pg_password": "pw", **keys}
    )
    assert settings.pg_password is not None
    assert settings.pg_password.get_secret_value() == "pw"


@pytest.mark.parametrize("schema", ["Public", "ks-engine", "1ks", "ks;drop", ""])
def test_a_schema_name_that_needs_quoting_is_refused(schema: str) -> None:
    with pytest.raises(ValidationError, match="pg_schema"):
        Settings(store="postgres", pg_schema=schema)
