"""Principals of the HTTP API: who holds a bearer token, in which role, for which municipalities.

Tokens are high-entropy random strings shown once when created; the principals file keeps
only their SHA-256 hash. A hash of a 256-bit random token needs no salt or slow hash: it
cannot be guessed, only stolen together with the file, and then it is still not the token.

Every token expires (``KS_TOKEN_DAYS``, default 90 days; demo tokens after a day). Rotating
issues a new token and keeps the previous one working for a grace period
(``KS_TOKEN_GRACE_DAYS``, default 7 days) so that a partner's system can switch over. A file
written before tokens expired has principals without an expiry: the first time this version
reads it, each gets one ``KS_TOKEN_DAYS`` from then, written into the file, so that the date is
the same for every process and shown by ``ks principals list``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.values import MunicipalityCode
from ks_engine import private_file
from ks_engine.clock import now as clock_now
from ks_engine.settings import Settings

TOKEN_PREFIX = "ks_"  # noqa: S105 - a marker, not a secret
DEFAULT_LIFETIME = timedelta(days=90)
DEFAULT_GRACE = timedelta(days=7)
DEMO_LIFETIME = timedelta(days=1)
_NO_HASH = "0" * 64  # compared against when a principal has no previous token (same work)

log = structlog.get_logger("ks.principals")


class PrincipalError(Exception):
    """The principals file is unusable, or a principal cannot be created as asked."""


class Role(StrEnum):
    """What a principal may do at the API."""

    PARTNER = "partner"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PROGRAMME_OFFICE = "programme_office"  # regional monitoring only: no case, no access log
    PRIVACY_OFFICER = "privacy_officer"  # as an auditor, plus the family's rights (AVG)


class CareDomain(StrEnum):
    """A partner's domain: what of a consented case it may see (domain/reader_policy.py)."""

    MEDICAL = "medical"
    SOCIAL = "social"


# Roles bound to municipalities: coordinators serve them, auditors and privacy officers
# oversee them (and see nothing of any other municipality).
MUNICIPAL_ROLES = frozenset({Role.COORDINATOR, Role.AUDITOR, Role.PRIVACY_OFFICER})


class Principal(BaseModel):
    """A holder of one API token (the token itself is never stored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    role: Role
    organisation: str = Field(min_length=1, max_length=300)
    municipalities: tuple[MunicipalityCode, ...] = ()
    domain: CareDomain | None = None  # partners only
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the token stops working (None only in old files)."
    )
    previous_token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    previous_expires_at: AwareDatetime | None = Field(
        default=None, description="Until when the token replaced by a rotation still works."
    )

    @model_validator(mode="after")
    def _municipalities_fit_role(self) -> Principal:
        if self.role is Role.COORDINATOR and not self.municipalities:
            raise ValueError("a coordinator serves at least one municipality (--municipality)")
        if self.role not in MUNICIPAL_ROLES and self.municipalities:
            raise ValueError(
                "only coordinators, auditors and privacy officers are bound to municipalities"
            )
        if self.domain is not None and self.role is not Role.PARTNER:
            raise ValueError("only partners have a domain (--domain medical or social)")
        return self

    def serves(self, municipality: str) -> bool:
        """Whether this principal coordinates the Knooppunt of ``municipality``."""
        return self.role is Role.COORDINATOR and municipality in self.municipalities

    def previous_works(self, at: datetime) -> bool:
        """Whether the token replaced by the last rotation still works at ``at``."""
        return self.previous_expires_at is not None and at < self.previous_expires_at

    def oversees(self, municipality: str) -> bool:
        """Whether this auditor or privacy officer is assigned ``municipality``."""
        return (
            self.role in (Role.AUDITOR, Role.PRIVACY_OFFICER)
            and municipality in self.municipalities
        )


class _PrincipalsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 2  # 2: tokens expire
    principals: list[Principal] = Field(default_factory=list)


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored in the principals file."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A principal just created or rotated, with its token (shown once, never stored)."""

    principal: Principal
    token: str


@dataclass(frozen=True)
class TokenCheck:
    """What a presented token is: nobody's, a principal's valid token, or an expired one."""

    principal: Principal | None = None
    expired_at: datetime | None = None  # set when the token was the principal's until then

    @property
    def valid(self) -> Principal | None:
        """The principal when the token works now, else None."""
        return self.principal if self.expired_at is None else None


class PrincipalRegistry:
    """The principals file: read when it changes, written atomically with mode 0600."""

    def __init__(
        self,
        path: Path,
        *,
        lifetime: timedelta = DEFAULT_LIFETIME,
        grace: timedelta = DEFAULT_GRACE,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        self.path = path
        self.lifetime = lifetime
        self.grace = grace
        self.clock = clock
        self._loaded_stamp: tuple[int, int] | None = None
        self._principals: tuple[Principal, ...] = ()

    def principals(self) -> tuple[Principal, ...]:
        """Every principal, re-read when the file changed since the last read."""
        stamp = private_file.stamp(self.path)
        if stamp is None:
            self._loaded_stamp, self._principals = None, ()
            return ()
        if stamp != self._loaded_stamp:
            found = self._read().principals
            if any(p.expires_at is None for p in found):
                found = self._date_old_principals()
                stamp = private_file.stamp(self.path) or stamp
            self._principals = tuple(found)
            self._loaded_stamp = stamp
        return self._principals

    def check(self, token: str) -> TokenCheck:
        """What ``token`` is, now. Compares every stored hash in constant time."""
        presented = token_hash(token)
        at = self.clock()
        found = TokenCheck()
        for principal in self.principals():
            current = hmac.compare_digest(principal.token_sha256, presented)
            previous = hmac.compare_digest(principal.previous_token_sha256 or _NO_HASH, presented)
            if current:
                ends = principal.expires_at
                found = TokenCheck(principal, ends if ends is not None and at >= ends else None)
            elif previous and principal.previous_token_sha256 is not None:
                works = principal.previous_works(at)
                found = TokenCheck(principal, None if works else principal.previous_expires_at)
        return found

    def authenticate(self, token: str) -> Principal | None:
        """The principal holding ``token`` while it works, or None."""
        return self.check(token).valid

    def add(
        self,
        *,
        role: Role,
        organisation: str,
        municipalities: Sequence[str] = (),
        domain: CareDomain | None = None,
        principal_id: str | None = None,
        replace: bool = False,
        lifetime: timedelta | None = None,
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
                domain=domain,
                token_sha256=token_hash(token),
                expires_at=self.clock() + (lifetime or self.lifetime),
            )
        except ValidationError as exc:
            reasons = "; ".join(
                e["msg"].removeprefix("Value error, ") for e in exc.errors(include_input=False)
            )
            raise PrincipalError(f"cannot create principal: {reasons}") from None
        with private_file.locked(self.path):
            current = self._read().principals
            if any(p.id == pid for p in current) and not replace:
                raise PrincipalError(f"a principal with id '{pid}' exists already")
            self._write([p for p in current if p.id != pid] + [principal])
        return Issued(principal, token)

    def rotate(self, principal_id: str) -> Issued:
        """A new token for a principal; the current one keeps working for the grace period
        (never past its own expiry). A token replaced earlier stops working at once."""
        token = new_token()
        with private_file.locked(self.path):
            current = self._read().principals
            old = next((p for p in current if p.id == principal_id), None)
            if old is None:
                raise PrincipalError(f"there is no principal '{principal_id}'")
            at = self.clock()
            grace_end = min(old.expires_at or at + self.grace, at + self.grace)
            keeps = grace_end > at
            rotated = old.model_copy(
                update={
                    "token_sha256": token_hash(token),
                    "expires_at": at + self.lifetime,
                    "previous_token_sha256": old.token_sha256 if keeps else None,
                    "previous_expires_at": grace_end if keeps else None,
                }
            )
            self._write([rotated if p.id == principal_id else p for p in current])
        return Issued(rotated, token)

    def remove(self, principal_id: str) -> bool:
        """Remove a principal (its tokens stop working at once); False if there was none."""
        with private_file.locked(self.path):
            current = self._read().principals
            kept = [p for p in current if p.id != principal_id]
            if len(kept) == len(current):
                return False
            self._write(kept)
        return True

    def _date_old_principals(self) -> list[Principal]:
        """Give principals of an older file their expiry, ``lifetime`` from now, once."""
        expiry = self.clock() + self.lifetime

        def dated(found: list[Principal]) -> list[Principal]:
            return [
                p if p.expires_at else p.model_copy(update={"expires_at": expiry}) for p in found
            ]

        try:
            with private_file.locked(self.path):
                current = self._read().principals
                result = dated(current)
                if result != current:
                    self._write(result)
                    log.warning("principals.expiry_added", expires_at=expiry.isoformat())
                return result
        except OSError as exc:
            # A read-only file still gets expiring tokens, counted from this process's start;
            # each process says so until the file can be written.
            log.warning("principals.expiry_not_written", reason=exc.strerror)
            return dated(self._read().principals)

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
        body = _PrincipalsFile(principals=principals).model_dump_json(indent=2) + "\n"
        private_file.replace(self.path, body)


def registry_for(
    settings: Settings, clock: Callable[[], datetime] = clock_now
) -> PrincipalRegistry:
    """The principals file of ``settings``, with its token lifetime and grace period."""
    return PrincipalRegistry(
        settings.principals_file,
        lifetime=timedelta(days=settings.token_days),
        grace=timedelta(days=settings.token_grace_days),
        clock=clock,
    )


# The demo's principals: organisations match the demo scenario's partners and municipalities.
_DEMO_REMIT = ("GM0928", "GM0882")  # the demo's Knooppunten: Kerkrade and Landgraaf
DEMO_PRINCIPALS: tuple[tuple[str, Role, str, tuple[str, ...]], ...] = (
    ("demo-coordinator-kerkrade", Role.COORDINATOR, "gemeente-kerkrade", ("GM0928",)),
    ("demo-coordinator-landgraaf", Role.COORDINATOR, "gemeente-landgraaf", ("GM0882",)),
    ("demo-partner-midwife", Role.PARTNER, "https://verloskunde-parkstad.nl", ()),
    ("demo-auditor", Role.AUDITOR, "knooppunt-zuid-limburg-audit", _DEMO_REMIT),
    ("demo-admin", Role.ADMIN, "knooppunt-zuid-limburg-beheer", ()),
    ("demo-programme-office", Role.PROGRAMME_OFFICE, "programmabureau-kansrijke-start-zl", ()),
    ("demo-privacy-officer", Role.PRIVACY_OFFICER, "knooppunt-zuid-limburg-fg", _DEMO_REMIT),
)
DEMO_DOMAINS = {"demo-partner-midwife": CareDomain.MEDICAL}


def create_demo_principals(registry: PrincipalRegistry) -> list[Issued]:
    """(Re)create the demo principals with fresh tokens valid for a day, for `ks run --demo`."""
    return [
        registry.add(
            role=role,
            organisation=organisation,
            municipalities=municipalities,
            domain=DEMO_DOMAINS.get(pid),
            principal_id=pid,
            replace=True,
            lifetime=DEMO_LIFETIME,
        )
        for pid, role, organisation, municipalities in DEMO_PRINCIPALS
    ]
