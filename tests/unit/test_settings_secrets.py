"""Settings from Compose: secret files under /run/secrets, a cluster's URLs, NATS credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from ks_engine import settings as settings_module
from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A secrets directory in place of /run/secrets, and no KS_ variables around."""
    for name in ("KS_PG_PASSWORD", "KS_NATS_PASSWORD", "KS_NATS_URL", "KS_NATS_USER"):
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "secrets"
    directory.mkdir()
    monkeypatch.setattr(settings_module, "SECRETS_DIR", directory)
    return directory


def test_a_secret_file_named_after_the_variable_sets_it(secrets_dir: Path) -> None:
    (secrets_dir / "ks_pg_password").write_text("kPostgresSecret\n")
    (secrets_dir / "ks_nats_password").write_text("kNatsSecret")
    found = Settings()
    assert found.pg_password is not None
    assert found.pg_password.get_secret_value() == "kPostgresSecret"
    assert found.nats_password is not None
    assert found.nats_password.get_secret_value() == "kNatsSecret"


def test_the_environment_wins_over_a_secret_file(
    secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (secrets_dir / "ks_pg_password").write_text("from-file")
    monkeypatch.setenv("KS_PG_PASSWORD", "from-env")
    found = Settings().pg_password
    assert found is not None
    assert found.get_secret_value() == "from-env"


def test_without_a_secrets_directory_nothing_is_read(
    secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "SECRETS_DIR", secrets_dir / "missing")
    assert Settings().pg_password is None


def test_a_cluster_url_lists_every_node(secrets_dir: Path) -> None:
    found = Settings(nats_url="nats://nats-1:4222, nats://nats-2:4222,nats://nats-3:4222")
    assert found.nats_servers == ["nats://nats-1:4222", "nats://nats-2:4222", "nats://nats-3:4222"]
    assert Settings(embedded_nats_port=4333).nats_servers == ["nats://127.0.0.1:4333"]


def test_nats_credentials_only_when_a_user_is_set(secrets_dir: Path) -> None:
    assert nats_credentials(Settings()) == {}
    found = nats_credentials(Settings(nats_user="engine", nats_password="kSecret"))
    assert found == {"user": "engine", "password": "kSecret"}
