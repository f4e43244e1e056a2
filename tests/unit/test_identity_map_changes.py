"""Changes to the identity map by several administrators at once are each kept, and the file
is never read half written."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from ks_engine.identity_map import IdentityMap, IdentityRule
from ks_engine.principals import Role

ADMINISTRATORS = 8
ISSUER = "https://login.gemeente.example.nl"


def _rule(n: int) -> IdentityRule:
    return IdentityRule(
        issuer=ISSUER,
        subject=f"person-{n}",
        role=Role.COORDINATOR,
        organisation="gemeente-kerkrade",
        municipalities=("GM0928",),
    )


def _add_together(path: Path, n: int, ready: multiprocessing.synchronize.Barrier) -> None:
    ready.wait()
    IdentityMap(path).add(_rule(n))
    IdentityMap(path).rules()  # a reader meanwhile sees a whole file


def test_rules_added_at_the_same_moment_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "identity-map.json"
    IdentityMap(path).add(_rule(0))
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        ready = manager.Barrier(ADMINISTRATORS)
        with context.Pool(ADMINISTRATORS) as pool:
            pool.starmap(_add_together, [(path, n, ready) for n in range(1, ADMINISTRATORS + 1)])
    kept = IdentityMap(path).rules()
    assert sorted(r.subject or "" for r in kept) == sorted(
        f"person-{n}" for n in range(ADMINISTRATORS + 1)
    )
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    IdentityMap(path).remove(_rule(3).key)
    assert len(IdentityMap(path).rules()) == ADMINISTRATORS
