"""Tokens expire; rotation hands out a new one and keeps the old one for a grace period."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli.main import app as cli
from ks_engine.principals import (
    DEMO_LIFETIME,
    PrincipalError,
    PrincipalRegistry,
    Role,
    create_demo_principals,
    token_hash,
)
from tests.conftest import FixedClock

DAYS = timedelta(days=1)


@pytest.fixture
def registry(tmp_path: Path, clock: FixedClock) -> PrincipalRegistry:
    return PrincipalRegistry(
        tmp_path / "principals.json", lifetime=90 * DAYS, grace=7 * DAYS, clock=clock
    )


def test_a_token_works_until_its_expiry_and_then_says_when_it_expired(
    registry: PrincipalRegistry, clock: FixedClock
) -> None:
    issued = registry.add(role=Role.AUDITOR, organisation="audit")
    assert issued.principal.expires_at == clock.now + 90 * DAYS
    clock.advance(days=90, seconds=-1)
    assert registry.authenticate(issued.token) == issued.principal
    clock.advance(seconds=1)
    found = registry.check(issued.token)
    assert registry.authenticate(issued.token) is None
    assert (found.principal, found.expired_at) == (issued.principal, clock.now)
    assert registry.check("ks_someone-elses").principal is None


def test_demo_tokens_last_a_day(registry: PrincipalRegistry, clock: FixedClock) -> None:
    issued = create_demo_principals(registry)
    assert {i.principal.expires_at for i in issued} == {clock.now + DEMO_LIFETIME}
    clock.advance(days=1)
    assert all(registry.authenticate(i.token) is None for i in issued)


def test_rotation_keeps_the_old_token_for_the_grace_period_only(
    registry: PrincipalRegistry, clock: FixedClock
) -> None:
    first = registry.add(role=Role.PARTNER, organisation="https://verloskunde.nl")
    clock.advance(days=30)
    second = registry.rotate(first.principal.id)
    assert second.token != first.token
    assert second.principal.expires_at == clock.now + 90 * DAYS
    assert second.principal.previous_expires_at == clock.now + 7 * DAYS
    assert registry.authenticate(first.token) == second.principal
    assert registry.authenticate(second.token) == second.principal
    clock.advance(days=7)
    assert registry.check(first.token).expired_at == second.principal.previous_expires_at
    assert registry.authenticate(second.token) == second.principal
    # A second rotation ends the first token's grace at once; only the last one is kept
    third = registry.rotate(first.principal.id)
    assert registry.authenticate(first.token) is None
    assert registry.authenticate(second.token) == third.principal
    assert registry.authenticate(third.token) == third.principal


def test_rotation_never_lengthens_an_old_tokens_life(
    registry: PrincipalRegistry, clock: FixedClock
) -> None:
    first = registry.add(role=Role.ADMIN, organisation="beheer")
    clock.advance(days=88)  # two days left
    second = registry.rotate(first.principal.id)
    assert second.principal.previous_expires_at == first.principal.expires_at
    clock.advance(days=3)  # expired already
    third = registry.rotate(first.principal.id)
    assert third.principal.previous_expires_at is not None
    clock.advance(days=100)
    fourth = registry.rotate(first.principal.id)  # the third token had expired
    assert fourth.principal.previous_token_sha256 is None
    assert registry.authenticate(third.token) is None


def test_rotating_nobody_is_refused(registry: PrincipalRegistry) -> None:
    with pytest.raises(PrincipalError, match="no principal 'ghost'"):
        registry.rotate("ghost")


def test_principals_of_an_older_file_expire_a_lifetime_after_it_is_first_read(
    registry: PrincipalRegistry, clock: FixedClock
) -> None:
    token = "ks_" + "x" * 43
    legacy = {
        "version": 1,
        "principals": [
            {
                "id": "old",
                "role": "auditor",
                "organisation": "audit",
                "token_sha256": token_hash(token),
            }
        ],
    }
    registry.path.write_text(json.dumps(legacy))
    assert registry.authenticate(token) is not None
    stored = json.loads(registry.path.read_text())["principals"][0]
    assert datetime.fromisoformat(stored["expires_at"]) == clock.now + 90 * DAYS
    # Another process, later, reads the same date from the file; it does not start again
    clock.advance(days=89)
    later = PrincipalRegistry(registry.path, lifetime=90 * DAYS, clock=clock)
    assert later.authenticate(token) is not None
    clock.advance(days=1)
    assert later.authenticate(token) is None
    assert later.check(token).expired_at == clock.now


def test_ks_principals_prints_expiry_and_rotates(tmp_path: Path) -> None:
    env = {"KS_DATA_DIR": str(tmp_path), "KS_TOKEN_DAYS": "30", "KS_TOKEN_GRACE_DAYS": "2"}
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["principals", "add", "--role", "auditor", "--organisation", "audit", "--id", "a1"],
        env=env,
    )
    assert added.exit_code == 0, added.output
    first = added.output.split("keep it safe): ")[1].split()[0]
    assert "; expires 20" in added.output
    rotated = runner.invoke(cli, ["principals", "rotate", "a1"], env=env)
    assert rotated.exit_code == 0, rotated.output
    second = rotated.output.split("keep it safe): ")[1].split()[0]
    assert second != first
    assert "the previous token of a1 works until" in rotated.output
    listed = runner.invoke(cli, ["principals", "list"], env=env)
    assert "a1" in listed.output
    assert "(previous token until" in listed.output
    assert first not in listed.output
    assert second not in listed.output
    registry = PrincipalRegistry(tmp_path / "principals.json")
    assert registry.authenticate(first) is not None
    assert registry.authenticate(second) is not None
    [principal] = registry.principals()
    assert principal.expires_at is not None
    assert principal.previous_expires_at is not None
    assert principal.expires_at - principal.previous_expires_at == timedelta(days=28)
    missing = runner.invoke(cli, ["principals", "rotate", "nobody"], env=env)
    assert missing.exit_code == 1
    assert "no principal 'nobody'" in missing.output
