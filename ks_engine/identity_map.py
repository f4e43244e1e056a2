"""Which people from which identity provider may act, and as what.

An administrator maps an OpenID Connect provider's claims to a ks-engine role, organisation and
municipalities (``ks principals map``): one person (issuer + subject) or everyone in a group.
A person's own rule goes before a group's; two group rules that disagree give no access, so
that nobody gets more than one administrator meant. The file is read on every sign-in and
every request of a person's session: a removed rule ends the sessions it allowed at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.values import MunicipalityCode
from ks_engine import private_file
from ks_engine.principals import PrincipalError, Role

PERSON_ROLES = frozenset(
    {Role.COORDINATOR, Role.AUDITOR, Role.ADMIN, Role.PROGRAMME_OFFICE}
    | {r for r in Role if r.value == "privacy_officer"}
)


class IdentityRule(BaseModel):
    """One mapping: a person (issuer + subject) or a group of an issuer, to a role."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    issuer: str = Field(min_length=1, max_length=500)
    subject: str | None = Field(default=None, min_length=1, max_length=255)
    group: str | None = Field(default=None, min_length=1, max_length=255)
    role: Role
    organisation: str = Field(min_length=1, max_length=300)
    municipalities: tuple[MunicipalityCode, ...] = ()

    @model_validator(mode="after")
    def _one_selector_and_a_person_role(self) -> IdentityRule:
        if (self.subject is None) == (self.group is None):
            raise ValueError("a rule names either one subject (--subject) or one group (--group)")
        if self.role not in PERSON_ROLES:
            raise ValueError(
                f"people sign in as {', '.join(sorted(r.value for r in PERSON_ROLES))}; "
                f"a {self.role.value} uses a token (ks principals add)"
            )
        if self.role is Role.COORDINATOR and not self.municipalities:
            raise ValueError("a coordinator serves at least one municipality (--municipality)")
        if self.role is not Role.COORDINATOR and self.municipalities:
            raise ValueError("only coordinators are bound to municipalities")
        return self

    @property
    def key(self) -> str:
        """A short, stable id of the rule (for `ks principals map remove`)."""
        who = f"s:{self.subject}" if self.subject is not None else f"g:{self.group}"
        return hashlib.sha256(f"{self.issuer}\n{who}".encode()).hexdigest()[:12]


class _MapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    rules: list[IdentityRule] = Field(default_factory=list)


class IdentityMap:
    """The rules, kept in one JSON file beside the principals file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rules(self) -> tuple[IdentityRule, ...]:
        if not self.path.exists():
            return ()
        try:
            return tuple(_MapFile.model_validate_json(self.path.read_bytes()).rules)
        except ValidationError as e:
            raise PrincipalError(f"the identity map {self.path} is unusable: {e}") from None

    def add(self, rule: IdentityRule) -> IdentityRule:
        """Store ``rule``; refused when a rule for the same person or group exists. Changes
        by several administrators at once are each kept (the file's lock)."""
        with private_file.locked(self.path):
            rules = self.rules()
            if any(r.key == rule.key for r in rules):
                raise PrincipalError(
                    f"a rule for this {'subject' if rule.subject else 'group'} of {rule.issuer} "
                    "exists; remove it first"
                )
            self._write([*rules, rule])
        return rule

    def remove(self, key: str) -> IdentityRule:
        with private_file.locked(self.path):
            rules = self.rules()
            found = [r for r in rules if r.key == key]
            if not found:
                raise PrincipalError(f"there is no rule {key} (ks principals map list)")
            self._write([r for r in rules if r.key != key])
        return found[0]

    def resolve(self, issuer: str, subject: str, groups: Iterable[str]) -> IdentityRule | None:
        """The rule that lets this person in, or None."""
        rules = [r for r in self.rules() if r.issuer == issuer]
        own = [r for r in rules if r.subject == subject]
        if own:
            return own[0]
        member = set(groups)
        by_group = [r for r in rules if r.group is not None and r.group in member]
        grants = {(r.role, r.organisation, r.municipalities) for r in by_group}
        return by_group[0] if len(grants) == 1 else None

    def _write(self, rules: Sequence[IdentityRule]) -> None:
        """Replace the file whole (mode 0600), so a reader never sees half of it."""
        doc = _MapFile(rules=list(rules)).model_dump(mode="json")
        private_file.replace(self.path, json.dumps(doc, indent=2))
