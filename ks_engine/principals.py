"""Principals of the HTTP API: who holds a bearer token, in which role, for which municipalities.

Tokens are high-entropy random strings shown once when created; the principals file keeps
only their SHA-256 hash. A hash of a 256-bit random token needs no salt or slow hash: it
cannot be guessed, only stolen together with the file, and then it is still not the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.values import MunicipalityCode

TOKEN_PREFIX = "ks_"  # noqa: S105 - a marker, not a secret


class PrincipalError(Exception):
    """The principals file is unusable, or a principal cannot be created as asked."""


class Role(StrEnum):
    """What a principal may do at the API."""

    PARTNER = "partner"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PROGRAMME_OFFICE = "programme_office"  # regional monitoring only: no case, no access log


class Principal(BaseModel):
    """A holder of one API token (the token itself is never stored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    role: Role
    organisation: str = Field(min_length=1, max_length=300)
    municipalities: tuple[MunicipalityCode, ...] = ()
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _municipalities_fit_role(self) -> Principal:
        if self.role is Role.COORDINATOR and not self.municipalities:
            raise ValueError("a coordinator serves at least one municipality (--municipality)")
        if self.role is not Role.COORDINATOR and self.municipalities:
            raise ValueError("only coordinators are bound to municipalities")
        return self

    def serves(self, municipality: str) -> bool:
        """Whether this principal coordinates the Knooppunt of ``municipality``."""
        return self.role is Role.COORDINATOR and municipality in self.municipalities


class _PrincipalsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    principals: list[Principal] = Field(default_factory=list)


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored in the principals file."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A principal just created, with its token (shown once, never stored)."""

    principal: Principal
    token: str


class PrincipalRegistry:
    """The principals file: read when it changes, written atomically with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded_stamp: tuple[int, int] | None = None
        self._principals: tuple[Principal, ...] = ()

    def principals(self) -> tuple[Principal, ...]:
        """Every principal, re-read when the file changed since the last read."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._loaded_stamp, self._principals = None, ()
            return ()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._loaded_stamp:
            self._principals = tuple(self._read().principals)
            self._loaded_stamp = stamp
        return self._principals

    def authenticate(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None. Compares every hash in constant time."""
        presented = token_hash(token)
        found: Principal | None = None
        for principal in self.principals():
            if hmac.compare_digest(principal.token_sha256, presented):
                found = principal
        return found

    def add(
        self,
        *,
        role: Role,
        organisation: str,
        municipalities: Sequence[str] = (),
        principal_id: str | None = None,
        replace: bool = False,
    ) -> Issued:
        """Create a principal with a new token; refuse an id in use unless ``replace``."""
        token = new_token()
        pid = principal_id or f"{role.value}-{secrets.token_hex(4)}"
        try:
            principal = Principal(
                id=pid,
                role=role,
                organisation=organisation,
                municipalities=tuple(dict.fromkeys(municipalities)),
                token_sha256=token_hash(token),
            )
        except ValidationError as exc:
            reasons = "; ".join(
                e["msg"].removeprefix("Value error, ") for e in exc.errors(include_input=False)
            )
            raise PrincipalError(f"cannot create principal: {reasons}") from None
        current = self._read().principals
        if any(p.id == pid for p in current) and not replace:
            raise PrincipalError(f"a principal with id '{pid}' exists already")
        self._write([p for p in current if p.id != pid] + [principal])
        return Issued(principal, token)

    def remove(self, principal_id: str) -> bool:
        """Remove a principal (its token stops working at once); False if there was none."""
        current = self._read().principals
        kept = [p for p in current if p.id != principal_id]
        if len(kept) == len(current):
            return False
        self._write(kept)
        return True

    def _read(self) -> _PrincipalsFile:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return _PrincipalsFile()
        except OSError as exc:
            raise PrincipalError(f"principals file {self.path} cannot be read: {exc}") from None
        try:
            return _PrincipalsFile.model_validate(json.loads(text))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise PrincipalError(f"principals file {self.path} is not valid: {exc}") from None

    def _write(self, principals: list[Principal]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = _PrincipalsFile(principals=principals).model_dump_json(indent=2) + "\n"
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


# The demo's principals: organisations match the demo scenario's partners and municipalities.
DEMO_PRINCIPALS: tuple[tuple[str, Role, str, tuple[str, ...]], ...] = (
    ("demo-coordinator-kerkrade", Role.COORDINATOR, "gemeente-kerkrade", ("GM0928",)),
    ("demo-coordinator-landgraaf", Role.COORDINATOR, "gemeente-landgraaf", ("GM0882",)),
    ("demo-partner-midwife", Role.PARTNER, "https://verloskunde-parkstad.nl", ()),
    ("demo-auditor", Role.AUDITOR, "knooppunt-zuid-limburg-audit", ()),
    ("demo-admin", Role.ADMIN, "knooppunt-zuid-limburg-beheer", ()),
    ("demo-programme-office", Role.PROGRAMME_OFFICE, "programmabureau-kansrijke-start-zl", ()),
)


def create_demo_principals(registry: PrincipalRegistry) -> list[Issued]:
    """(Re)create the demo principals with fresh tokens, for `ks run --demo`."""
    return [
        registry.add(
            role=role,
            organisation=organisation,
            municipalities=municipalities,
            principal_id=pid,
            replace=True,
        )
        for pid, role, organisation, municipalities in DEMO_PRINCIPALS
    ]
