"""Principals: tokens shown once and stored only as hashes; roles and municipalities checked."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ks_engine.principals import (
    PrincipalError,
    PrincipalRegistry,
    Role,
    create_demo_principals,
    token_hash,
)


@pytest.fixture
def registry(tmp_path: Path) -> PrincipalRegistry:
    return PrincipalRegistry(tmp_path / "principals.json")


def test_a_new_token_authenticates_its_principal_and_is_stored_only_as_a_hash(
    registry: PrincipalRegistry,
) -> None:
    issued = registry.add(
        role=Role.COORDINATOR, organisation="gemeente-kerkrade", municipalities=["GM0928"]
    )
    assert registry.authenticate(issued.token) == issued.principal
    text = registry.path.read_text()
    assert issued.token not in text
    assert token_hash(issued.token) in text
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600


def test_a_wrong_or_altered_token_authenticates_nobody(registry: PrincipalRegistry) -> None:
    issued = registry.add(role=Role.AUDITOR, organisation="audit")
    assert (
        registry.authenticate(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")) is None
    )
    assert registry.authenticate("") is None


def test_tokens_are_unique_and_long(registry: PrincipalRegistry) -> None:
    tokens = {registry.add(role=Role.ADMIN, organisation="beheer").token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 40 for t in tokens)


def test_a_coordinator_needs_a_municipality_and_others_have_none(
    registry: PrincipalRegistry,
) -> None:
    with pytest.raises(PrincipalError, match="at least one municipality"):
        registry.add(role=Role.COORDINATOR, organisation="gemeente-kerkrade")
    with pytest.raises(PrincipalError, match="only coordinators"):
        registry.add(role=Role.PARTNER, organisation="https://x.nl", municipalities=["GM0928"])
    with pytest.raises(PrincipalError, match="GM"):
        registry.add(role=Role.COORDINATOR, organisation="g", municipalities=["Kerkrade"])
    assert registry.principals() == ()


def test_an_id_in_use_is_refused_unless_replaced(registry: PrincipalRegistry) -> None:
    first = registry.add(role=Role.AUDITOR, organisation="audit", principal_id="auditor-1")
    with pytest.raises(PrincipalError, match="exists already"):
        registry.add(role=Role.AUDITOR, organisation="audit", principal_id="auditor-1")
    second = registry.add(
        role=Role.AUDITOR, organisation="audit", principal_id="auditor-1", replace=True
    )
    assert registry.authenticate(first.token) is None
    assert registry.authenticate(second.token) == second.principal


def test_a_removed_principal_is_refused_at_once_also_by_a_registry_already_loaded(
    registry: PrincipalRegistry,
) -> None:
    issued = registry.add(role=Role.PARTNER, organisation="https://verloskunde.nl")
    serving = PrincipalRegistry(registry.path)  # e.g. the running API
    assert serving.authenticate(issued.token) is not None
    assert registry.remove(issued.principal.id)
    assert serving.authenticate(issued.token) is None
    assert not registry.remove(issued.principal.id)


def test_a_damaged_principals_file_is_reported_in_words(registry: PrincipalRegistry) -> None:
    registry.path.write_text(json.dumps({"principals": [{"id": "x", "role": "superuser"}]}))
    with pytest.raises(PrincipalError, match="not valid"):
        registry.principals()


def test_demo_principals_cover_every_role_and_both_pilot_municipalities(
    registry: PrincipalRegistry,
) -> None:
    issued = create_demo_principals(registry)
    roles = {i.principal.role for i in issued}
    assert roles == set(Role)
    served = {m for i in issued for m in i.principal.municipalities}
    assert served == {"GM0928", "GM0882"}
    again = create_demo_principals(registry)  # re-running replaces, never duplicates
    assert len(registry.principals()) == len(again)
    assert all(registry.authenticate(i.token) is None for i in issued)
    assert all(registry.authenticate(i.token) == i.principal for i in again)
