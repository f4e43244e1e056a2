"""The coordinators of a municipality's Knooppunt: whom a case there may be assigned to.

They are the coordinator principals that serve the municipality (``ks principals add``) and
the people an identity-map rule of their own maps to its coordinators (``ks principals map
--subject``). A person who is a coordinator through a group rule is known only once signed in:
they take a case themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ks_engine.identity_map import IdentityRule
from ks_engine.principals import Principal, Role


@dataclass(frozen=True)
class CoordinatorRef:
    """A coordinator a case can be assigned to: id and organisation."""

    id: str
    organisation: str


def person_principal_id(issuer: str, subject: str) -> str:
    """The principal id of a person signed in (as ``ks_engine.person_sessions`` makes it)."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"oidc-{digest[:20]}"


def coordinators_of(
    municipality: str, principals: Iterable[Principal], rules: Iterable[IdentityRule] = ()
) -> list[CoordinatorRef]:
    """Every known coordinator serving ``municipality``, sorted by id."""
    found = {
        p.id: CoordinatorRef(p.id, p.organisation) for p in principals if p.serves(municipality)
    }
    for rule in rules:
        if rule.subject and rule.role is Role.COORDINATOR and municipality in rule.municipalities:
            ref = CoordinatorRef(person_principal_id(rule.issuer, rule.subject), rule.organisation)
            found.setdefault(ref.id, ref)
    return sorted(found.values(), key=lambda r: r.id)
