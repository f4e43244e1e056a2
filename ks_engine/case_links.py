"""Pseudonyms a case keeps, sealed under the case's own link key (*koppelsleutel*).

A case must know its household members' pseudonyms to match later signals to it, and the
event store keeps them for ever (its hashes cover every event). So a case never stores a
pseudonym in clear: it stores ``k1.<key id>.<AES-SIV of the pseudonym>`` under a random key
of its own (in the ``ks_engine.keystore`` key store). AES-SIV is deterministic: the same
pseudonym sealed under the same key gives the same text, so the domain compares members as
before. Erasure destroys the link key with the data keys (crypto-shredding): afterwards
nothing in the case's events, nor in the access log (which names the case's sealed form),
can be tied to a person's pseudonym, while every stored byte, and the audit chain over it,
stays as it was. Cases stored before link keys existed keep their pseudonyms in clear
(``unseal`` returns them as they are).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.values import Signal
from ks_engine.keystore import KeyStore, KeyStoreError

PREFIX = "k1."
_AAD = b"ks-engine case pseudonym v1"


def _siv(key: bytes) -> AESSIV:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=None, info=b"ks-engine case link key v1"
    ).derive(key)
    return AESSIV(derived)


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed pseudonym (else a pseudonym stored before link keys)."""
    return value.startswith(PREFIX)


def key_of(value: str) -> str | None:
    """The id of the link key ``value`` is sealed under; None for a pseudonym in clear."""
    if not is_sealed(value):
        return None
    return value[len(PREFIX) :].split(".", 1)[0]


class CaseLinks:
    """Seals pseudonyms under link keys, and opens them while the keys exist."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def new_key(self) -> str:
        """A fresh link key for a new case; its id."""
        return self.keys.create()

    def seal(self, pseudonym: str, key_id: str | None) -> str:
        """``pseudonym`` sealed under ``key_id``; as it is for a case without a link key (one
        stored before link keys existed) and when it is sealed already."""
        if key_id is None or is_sealed(pseudonym):
            return pseudonym
        return self._sealer(key_id)(pseudonym)

    def _sealer(self, key_id: str) -> Callable[[str], str]:
        """Seals pseudonyms (clear ones) under ``key_id``; the key is read and derived once."""
        key = self.keys.get(key_id)
        if key is None:
            raise KeyStoreError(f"link key {key_id} was destroyed; nothing can be sealed under it")
        siv, aad = _siv(key), [_AAD, key_id.encode()]

        def seal(pseudonym: str) -> str:
            sealed = siv.encrypt(pseudonym.encode(), aad)
            return f"{PREFIX}{key_id}.{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"

        return seal

    def unseal(self, value: str) -> str | None:
        """The pseudonym in ``value``; None once its link key is destroyed."""
        key_id = key_of(value)
        if key_id is None:
            return value
        key = self.keys.get(key_id)
        if key is None:
            return None
        body = value[len(PREFIX) + len(key_id) + 1 :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return _siv(key).decrypt(raw, [_AAD, key_id.encode()]).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise KeyStoreError(
                f"a pseudonym sealed under link key {key_id} cannot be opened"
            ) from None

    def resealer(self, key_id: str | None) -> Callable[[str], str]:
        """A function sealing any pseudonym (clear, or sealed under another case's key) under
        ``key_id``: for what moves from one case to another (a merge, a follow-up)."""

        def reseal(value: str) -> str:
            plain = self.unseal(value)
            if plain is None:
                raise KeyStoreError("a pseudonym to move is sealed under a destroyed link key")
            return self.seal(plain, key_id)

        return reseal

    def seal_signal(self, signal: Signal, key_id: str | None) -> Signal:
        """The signal with its person's and household members' pseudonyms sealed (not
        validated again: a sealed pseudonym is longer than a clear one)."""
        if key_id is None:
            return signal
        sealer: Callable[[str], str] | None = None  # the key is read once, when first needed

        def seal(pseudonym: str) -> str:
            nonlocal sealer
            if is_sealed(pseudonym):
                return pseudonym
            if sealer is None:
                sealer = self._sealer(key_id)
            return sealer(pseudonym)

        members = tuple(
            m.model_copy(update={"pseudonym": seal(m.pseudonym)}) if m.pseudonym else m
            for m in signal.household
        )
        return signal.model_copy(
            update={"person_pseudonym": seal(signal.person_pseudonym), "household": members}
        )


Ref = UUID | str  # a case id in an index entry: sealed, or in clear (stored before sealing)


def entry_keys(refs: Iterable[object]) -> list[str]:
    """The keys of sealed index references (to destroy when the entries forget a case)."""
    return [k for r in refs if isinstance(r, str) and (k := key_of(r))]


class IndexRefs:
    """Case ids in matching-index and name-lookup entries, each sealed under a key of its own.

    An index entry's id is derived from a pseudonym (or a blind name key), so a case id in it
    in clear would tie the person to the case for ever. Each entry seals the case id under a
    fresh key that nothing else names (not the case, not another member's entry), destroyed
    when the case is erased: the entry's history then says only that some case was forgotten.
    """

    def __init__(self, links: CaseLinks) -> None:
        self.links = links

    def new(self, case_id: UUID) -> str:
        """A new entry's sealed reference to ``case_id``."""
        return self.links.seal(str(case_id), self.links.new_key())

    def case_of(self, ref: Ref | None) -> UUID | None:
        """The case an entry names; None for none, or once the entry's key is destroyed."""
        if ref is None or isinstance(ref, UUID):
            return ref
        opened = self.links.unseal(ref)
        return UUID(opened) if opened is not None else None

    def cases(self, refs: Iterable[Ref]) -> list[UUID]:
        """The cases the entries name, forgotten ones left out."""
        return [c for c in map(self.case_of, refs) if c is not None]

    def find(self, refs: Iterable[Ref], case_id: UUID) -> Ref | None:
        """The stored reference naming ``case_id``, if any."""
        return next((r for r in refs if self.case_of(r) == case_id), None)

    def for_case(self, refs: Iterable[Ref], case_id: UUID) -> Ref:
        """The reference naming ``case_id``: the stored one, or a new one."""
        return self.find(refs, case_id) or self.new(case_id)
