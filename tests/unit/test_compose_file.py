"""docker-compose.yml and the Dockerfile: valid Compose, and only commands and settings that exist.

Docker does not run on the development machines, so what can be checked without it is checked
here: the file against the Compose Specification's JSON schema (vendored, see
tests/data/compose-spec/ORIGIN.md), every `ks` command against the CLI, every `KS_*` setting
and secret against ``Settings``, every variable of the NATS configuration against the nodes'
environment, and every interpolated variable against .env.example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from jsonschema import Draft201909Validator

from entrypoints.cli import app
from ks_engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
NATS_CONFIG = ROOT / "deploy" / "nats"
ENGINE_SERVICES = ["ks-intake", "ks-relay", "ks-project", "ks-sealer", "ks-api"]
NATS_NODES = ["nats-1", "nats-2", "nats-3"]
_INTERPOLATED = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


def cli_command(words: list[str]) -> object | None:
    """The `ks` command named by ``words`` (e.g. ["projections", "status"]), or None."""
    command: object = typer.main.get_command(app)
    for word in words:
        subcommands: dict[str, object] = getattr(command, "commands", {})
        if word not in subcommands:
            return None
        command = subcommands[word]
    return command


def ks_commands(spec: dict[str, Any]) -> list[list[str]]:
    """Each `ks ...` a service runs: its command (the image's entrypoint is `ks`) and its
    health check when that calls `ks`."""
    found = [list(spec["command"])]
    test = spec.get("healthcheck", {}).get("test", [])
    if test[:2] == ["CMD", "ks"]:
        found.append(test[2:])
    return found


def setting_names() -> set[str]:
    return {f"KS_{name.upper()}" for name in Settings.model_fields}


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in Draft201909Validator(schema).iter_errors(compose())
    ]
    assert errors == []


def test_the_schema_refuses_what_compose_refuses() -> None:
    # The check can fail: a misspelt key and a wrong type are caught.
    schema = json.loads(SCHEMA.read_text())
    broken = compose()
    broken["services"]["ks-relay"]["comand"] = ["relay"]
    broken["services"]["ks-project"]["restart"] = ["always"]
    assert len(list(Draft201909Validator(schema).iter_errors(broken))) == 2


def test_every_component_and_its_dependencies_are_services() -> None:
    services = compose()["services"]
    assert set(services) == {*NATS_NODES, "postgres", *ENGINE_SERVICES}
    for name, spec in services.items():
        assert "healthcheck" in spec, f"{name} has no health check"
        assert spec.get("restart") == "unless-stopped", name


@pytest.mark.parametrize("name", ENGINE_SERVICES)
def test_every_ks_command_a_service_runs_exists(name: str) -> None:
    spec = service(name)
    for words in ks_commands(spec):
        assert cli_command(words) is not None, f"{name} runs `ks {' '.join(words)}`"


@pytest.mark.parametrize("name", ENGINE_SERVICES)
def test_every_ks_setting_and_secret_a_service_uses_exists(name: str) -> None:
    spec = service(name)
    names = setting_names()
    used = {key for key in spec["environment"] if key.startswith("KS_")}
    if spec["command"] == ["api"] and "KS_API_PORT" not in names:
        pytest.skip("KS_API_HOST/KS_API_PORT are not on this branch yet: they come with `ks api`")
    assert used <= names, f"{name} sets unknown settings: {sorted(used - names)}"
    # A secret file /run/secrets/ks_<name> is read as the setting KS_<NAME>.
    secrets = {s.upper() for s in spec["secrets"]}
    assert secrets <= names, f"{name} mounts unknown secrets: {sorted(secrets - names)}"
    assert set(spec["secrets"]) <= set(compose()["secrets"])


@pytest.mark.parametrize("name", ENGINE_SERVICES)
def test_the_engine_runs_in_production_on_postgres_and_the_whole_cluster(name: str) -> None:
    env = service(name)["environment"]
    assert env["KS_ENVIRONMENT"] == "production"
    assert env["KS_STORE"] == "postgres"
    assert env["KS_PG_HOST"] in compose()["services"]
    urls = env["KS_NATS_URL"].split(",")
    assert urls == [f"nats://{node}:4222" for node in NATS_NODES]
    assert int(env["KS_NATS_REPLICAS"]) == len(NATS_NODES)
    # Production settings refuse to start without the secrets: they are all mounted.
    assert {"ks_pg_password", "ks_pseudonym_key", "ks_cipher_key"} <= set(service(name)["secrets"])


@pytest.mark.parametrize("node", NATS_NODES)
def test_every_variable_the_nats_configuration_reads_is_set_on_every_node(node: str) -> None:
    wanted = {
        name
        for conf in NATS_CONFIG.glob("*.conf")
        for name in re.findall(r"\$(KS_NATS_[A-Z0-9_]+)", conf.read_text())
    }
    spec = service(node)
    assert wanted <= set(spec["environment"])
    assert spec["environment"]["KS_NATS_SERVER_NAME"] == node
    assert "./deploy/nats:/etc/nats:ro" in spec["volumes"]
    assert spec["command"] == ["-c", "/etc/nats/nats.conf"]


def test_every_variable_compose_interpolates_is_in_the_example_env_file() -> None:
    interpolated = set(_INTERPOLATED.findall(COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert interpolated
    assert interpolated <= example


def test_the_image_runs_ks_as_a_non_root_user_with_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2
    assert 'ENTRYPOINT ["ks"]' in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert include is not None
    for pattern in re.findall(r'"([a-z_]+)\*"', include.group(1)):
        assert re.search(rf"^COPY {pattern} ", dockerfile, re.MULTILINE), f"{pattern} not copied"


def test_the_command_lookup_finds_real_commands_only() -> None:
    assert cli_command(["intake"]) is not None
    assert cli_command(["projections", "status"]) is not None
    assert cli_command(["intakes"]) is None
    assert cli_command(["intake", "status"]) is None


@pytest.mark.parametrize("node", NATS_NODES)
def test_every_node_mounts_the_store_key_the_nats_configuration_includes(node: str) -> None:
    config = (NATS_CONFIG / "nats.conf").read_text()
    assert "cipher: chachapoly" in config
    (included,) = re.findall(r'include "\.\./\.\./run/secrets/([a-z_]+)"', config)
    assert included in service(node).get("secrets", [])
    assert compose()["secrets"][included]["file"].startswith("./secrets/")
