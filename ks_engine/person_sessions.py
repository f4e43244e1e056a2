"""Dashboard sessions of people signed in through their organisation's identity provider.

A session is a random token in the dashboard's cookie; this store keeps only its SHA-256, who
it is (issuer, subject, groups) and when it was last used. A session ends when the person signs
out, after ``idle`` without a request, after ``longest`` in all, and as soon as the identity
map no longer lets the person in: every request asks the map again. A person removed at the
provider can therefore act at most until the session ends; signing in again asks the provider.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ks_engine.coordinators import person_principal_id
from ks_engine.identity_map import IdentityMap
from ks_engine.principals import Principal

SESSION_PREFIX = "kss_"
_TOUCH_EVERY = timedelta(seconds=30)  # last-use times are written at most this often


@dataclass(frozen=True)
class Person:
    """Who signed in: the provider (issuer), their subject there, and their groups."""

    issuer: str
    subject: str
    groups: tuple[str, ...] = ()

    @property
    def principal_id(self) -> str:
        """A stable, opaque id for the access log's principal column."""
        return person_principal_id(self.issuer, self.subject)

    @property
    def reference(self) -> str:
        """Issuer and subject, as the access log records the person."""
        return f"{self.issuer}#{self.subject}"


@dataclass(frozen=True)
class Opened:
    """A person's session: its principal and what ends it at the provider."""

    principal: Principal
    person: Person
    id_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PersonSessions:
    """Sessions in an SQLite file under the data directory (shared by the API's workers)."""

    def __init__(
        self,
        path: Path,
        identities: IdentityMap,
        *,
        idle: timedelta,
        longest: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.identities = identities
        self.idle, self.longest, self.clock = idle, longest, clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS person_sessions (token_sha256 TEXT PRIMARY KEY,"
            " person TEXT NOT NULL, id_token TEXT NOT NULL, started REAL NOT NULL,"
            " last_used REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending_sign_ins (state_sha256 TEXT PRIMARY KEY,"
            " nonce TEXT NOT NULL, code_verifier TEXT NOT NULL, next TEXT NOT NULL,"
            " started REAL NOT NULL)"
        )

    def remember(self, state: str, nonce: str, code_verifier: str, next_path: str) -> None:
        """A sign-in sent to the provider: what its return must match (kept ten minutes)."""
        now = self.clock().timestamp()
        with self._lock:
            self._db.execute("DELETE FROM pending_sign_ins WHERE started < ?", (now - 600,))
            self._db.execute(
                "INSERT INTO pending_sign_ins VALUES (?, ?, ?, ?, ?)",
                (_hash(state), nonce, code_verifier, next_path, now),
            )

    def take(self, state: str) -> tuple[str, str, str] | None:
        """Nonce, code verifier and where to go next of a pending sign-in; usable once."""
        now = self.clock().timestamp()
        with self._lock:
            row = self._db.execute(
                "DELETE FROM pending_sign_ins WHERE state_sha256 = ? AND started >= ?"
                " RETURNING nonce, code_verifier, next",
                (_hash(state), now - 600),
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def open(self, person: Person, id_token: str) -> str:
        """A new session for ``person`` (whom the identity map lets in); its token."""
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self.clock().timestamp()
        with self._lock:
            self._db.execute(
                "INSERT INTO person_sessions VALUES (?, ?, ?, ?, ?)",
                (_hash(token), json.dumps(person.__dict__), id_token, now, now),
            )
        return token

    def use(self, token: str) -> Opened | None:
        """The session's principal, its use recorded; None when it ended (and it is removed)."""
        key = _hash(token)
        with self._lock:
            row = self._db.execute(
                "SELECT person, id_token, started, last_used FROM person_sessions"
                " WHERE token_sha256 = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        person = Person(data["issuer"], data["subject"], tuple(data["groups"]))
        now = self.clock()
        started = datetime.fromtimestamp(row[2], now.tzinfo)
        last_used = datetime.fromtimestamp(row[3], now.tzinfo)
        principal = self.principal_of(person)
        if principal is None or now - last_used > self.idle or now - started > self.longest:
            self.end(token)
            return None
        if now - last_used > _TOUCH_EVERY:
            with self._lock:
                self._db.execute(
                    "UPDATE person_sessions SET last_used = ? WHERE token_sha256 = ?",
                    (now.timestamp(), key),
                )
        return Opened(principal, person, row[1])

    def end(self, token: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM person_sessions WHERE token_sha256 = ?", (_hash(token),))

    def principal_of(self, person: Person) -> Principal | None:
        """The principal the identity map makes of ``person`` now, or None."""
        rule = self.identities.resolve(person.issuer, person.subject, person.groups)
        if rule is None:
            return None
        return Principal(
            id=person.principal_id,
            role=rule.role,
            organisation=rule.organisation,
            municipalities=rule.municipalities,
            token_sha256="0" * 64,  # a session's token is checked here, not by the registry
        )

    def close(self) -> None:
        self._db.close()
