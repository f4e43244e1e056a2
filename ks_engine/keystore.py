"""Per-case data keys for the family's personal details, and the vault that seals with them.

Crypto-shredding: the details are sealed (AES-256-GCM) under a data key of their case before
they reach an event; destroying the key erases them, while the stored events, and the audit
trail's hashes over them, stay exactly as they were. The application talks to a ``KeyStore``
(this port); ``adapters.persistence.keystore`` keeps keys in the event store's database,
wrapped under a key derived from the store's cipher key.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol
from uuid import uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from domain.values import PersonalDetails

Json = dict[str, Any]
_AAD = b"ks-engine personal details v1:"
_NOTE_AAD = b"ks-engine case note v1:"  # a note's seal can never be opened as details


class KeyStoreError(Exception):
    """A data key cannot be created, read or destroyed."""


class UnknownKeyError(KeyStoreError):
    """No data key with this id was ever created in this key store."""


class KeyStore(Protocol):
    """Where data keys live; a destroyed key is gone for good, its id remembered."""

    def create(self) -> str:
        """Create a fresh random data key; return its id."""

    def prepare(self) -> None:
        """Make ready what ``create`` would otherwise make on its first call (a long-running
        process does this at its start); a no-op where there is nothing to make."""

    def get(self, key_id: str) -> bytes | None:
        """The key, or None when it was destroyed; UnknownKeyError if it never existed."""

    def destroy(self, key_id: str) -> bool:
        """Destroy the key (True), or report that it was already destroyed (False)."""

    def remembering(self) -> AbstractContextManager[None]:
        """Within it, this thread reads each key once: for one unit of work (a batch of
        signals), whose keys a store far away would otherwise be asked for one by one."""

    def read_ahead(self, key_ids: Iterable[str]) -> None:
        """Read these keys now, together, for ``remembering``'s unit of work; outside one, or
        where reading one by one costs nothing more, a no-op. A key that never existed is
        left out: ``get`` then says so."""


class MemoryKeyStore:
    """Data keys in this process's memory: for the in-memory event store and unit tests."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def prepare(self) -> None:
        return None  # a key in memory is made as cheaply on demand

    def create(self) -> str:
        key_id = str(uuid4())
        with self._lock:
            self._keys[key_id] = secrets.token_bytes(32)
        return key_id

    def get(self, key_id: str) -> bytes | None:
        with self._lock:
            if key_id not in self._keys:
                raise UnknownKeyError(f"there is no data key {key_id}")
            return self._keys[key_id]

    def destroy(self, key_id: str) -> bool:
        with self._lock:
            if key_id not in self._keys:
                raise UnknownKeyError(f"there is no data key {key_id}")
            existed = self._keys[key_id] is not None
            self._keys[key_id] = None
            return existed

    @contextmanager
    def remembering(self) -> Iterator[None]:
        yield  # every read is one from memory already

    def read_ahead(self, key_ids: Iterable[str]) -> None:
        return None


@dataclass(frozen=True)
class PersonalDetailsView:
    """A case's personal details as the application gives them: present, erased or none."""

    status: Literal["present", "erased", "none"]
    details: PersonalDetails | None = None
    erased_on: date | None = None


class PersonalDataVault:
    """Seals personal details under data keys and opens them again while the keys exist."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def seal(self, details: PersonalDetails, key_id: str | None) -> tuple[Json | None, str | None]:
        """``({"key_id", "ciphertext"}, key_id)``, creating a key when ``key_id`` is None;
        ``(None, key_id)`` when there is nothing to seal."""
        plain = details.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if not plain:
            return None, key_id
        key_id = key_id or self.keys.create()
        key = self.keys.get(key_id)
        if key is None:
            raise KeyStoreError(f"data key {key_id} was destroyed; nothing can be sealed under it")
        nonce = secrets.token_bytes(12)
        body = json.dumps(plain, sort_keys=True, separators=(",", ":")).encode()
        sealed = AESGCM(key).encrypt(nonce, body, _AAD + key_id.encode())
        return {"key_id": key_id, "ciphertext": base64.b64encode(nonce + sealed).decode()}, key_id

    def open(self, sealed: Json) -> PersonalDetails | None:
        """The details sealed in ``sealed``, or None when their key was destroyed."""
        key_id = str(sealed["key_id"])
        key = self.keys.get(key_id)
        if key is None:
            return None
        try:
            raw = base64.b64decode(str(sealed["ciphertext"]), validate=True)
            body = AESGCM(key).decrypt(raw[:12], raw[12:], _AAD + key_id.encode())
            return PersonalDetails.model_validate(json.loads(body))
        except (binascii.Error, ValueError, InvalidTag, ValidationError):
            raise KeyStoreError(
                f"personal details sealed under data key {key_id} cannot be opened"
            ) from None

    def seal_text(self, text: str, key_id: str) -> Json:
        """``{"key_id", "ciphertext"}`` of a free text (a coordinator's note) under ``key_id``."""
        key = self.keys.get(key_id)
        if key is None:
            raise KeyStoreError(f"data key {key_id} was destroyed; nothing can be sealed under it")
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, text.encode(), _NOTE_AAD + key_id.encode())
        return {"key_id": key_id, "ciphertext": base64.b64encode(nonce + sealed).decode()}

    def open_text(self, sealed: Json) -> str | None:
        """The text sealed in ``sealed``, or None when its key was destroyed."""
        key_id = str(sealed["key_id"])
        key = self.keys.get(key_id)
        if key is None:
            return None
        try:
            raw = base64.b64decode(str(sealed["ciphertext"]), validate=True)
            return AESGCM(key).decrypt(raw[:12], raw[12:], _NOTE_AAD + key_id.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise KeyStoreError(f"a note sealed under data key {key_id} cannot be opened") from None

    def view(self, sealed_entries: list[Json], erased_on: date | None) -> PersonalDetailsView:
        """The details of all entries merged (later signals add to earlier ones)."""
        if erased_on is not None:
            return PersonalDetailsView("erased", erased_on=erased_on)
        merged: Json = {}
        members: dict[str, Json] = {}
        for entry in sealed_entries:
            opened = self.open(entry)
            if opened is None:  # the key is gone although no erasure was recorded (yet)
                return PersonalDetailsView("erased")
            plain = opened.model_dump(exclude_none=True, exclude_defaults=True)
            for member in plain.pop("household", []):  # later details add to earlier ones
                members[member["ref"]] = {**members.get(member["ref"], {}), **member}
            merged.update(plain)
        if members:
            merged["household"] = list(members.values())
        if not merged:
            return PersonalDetailsView("none")
        return PersonalDetailsView("present", PersonalDetails.model_validate(merged))

    def destroy(self, key_ids: list[str]) -> None:
        """Destroy these keys (already destroyed ones are fine)."""
        for key_id in key_ids:
            self.keys.destroy(key_id)
