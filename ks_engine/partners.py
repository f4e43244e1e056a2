"""The partner registry: which partner systems may signal, and their short subject-safe ids."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.redaction import redact_bsns


class PartnerRegistryError(Exception):
    """The partner registry file could not be read or is not valid."""


class Partner(BaseModel):
    """A partner organisation's system: its CloudEvents ``source`` and a short id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    source: str = Field(min_length=1, max_length=300)
    name: str = Field(min_length=1, max_length=200)


class PartnerRegistry(BaseModel):
    """Known partners; when configured, signals from other sources are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    partners: tuple[Partner, ...]

    def by_source(self, source: str) -> Partner | None:
        return next((p for p in self.partners if p.source == source), None)


def load_partners(path: Path) -> PartnerRegistry:
    """The registry in ``path`` (JSON: ``{"partners": [{"id", "source", "name"}]}``)."""
    try:
        return PartnerRegistry.model_validate(json.loads(path.read_text("utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise PartnerRegistryError(f"partner registry {path} is not usable: {exc}") from None


def partner_token(source: str, registry: PartnerRegistry | None) -> str:
    """A NATS-subject-safe token for a partner: its registry id, else derived from the source.

    Receipts are published under this token, so a partner's NATS user can be limited to its own.
    """
    if registry is not None and (partner := registry.by_source(source)) is not None:
        return partner.id
    readable = redact_bsns(source)  # a BSN never names a subject, not even hashed
    slug = re.sub(r"[^a-z0-9]+", "-", readable.lower().split("://", 1)[-1]).strip("-")[:40]
    digest = hashlib.sha256(readable.encode()).hexdigest()[:8]
    return f"{slug or 'partner'}-{digest}"


class PartnerTokens:
    """``partner_token`` of each source, made once per source (a process's registry is fixed
    while it runs; at most ``kept`` sources are remembered, there are a few dozen partners)."""

    def __init__(self, registry: PartnerRegistry | None, kept: int = 10_000) -> None:
        self.registry = registry
        self.kept = kept
        self._tokens: dict[str, str] = {}

    def __call__(self, source: str) -> str:
        token = self._tokens.get(source)
        if token is None:
            if len(self._tokens) >= self.kept:
                self._tokens.clear()
            token = self._tokens[source] = partner_token(source, self.registry)
        return token
