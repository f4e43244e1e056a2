"""The hash chain over the event store's notification log: links, checkpoints, their hashes.

Every stored event (at its notification position) gets one link. Hashes are SHA-256 over
canonical JSON (sorted keys, no spaces, ASCII) and are computed over the event *as stored*:
its topic, aggregate id, version and encrypted state bytes. Erasing personal details destroys
a key but changes no stored byte, so it never breaks the chain.

    state_hash = sha256(stored state bytes)
    body_hash  = H({aggregate, version, topic, state_hash, summary_hash, prev_in_aggregate,
                    chain_format, sealed_at})           # chain format 2
    body_hash  = H({aggregate, version, topic, state_hash, summary_hash, prev_in_aggregate})
                                                        # chain format 1 (links sealed before)
    link_hash  = H({position, prev, body})

Every column of a link is covered by its hash: a chain format 2 link's ``sealed_at`` and
``chain_format`` are in its body (relabelling a link with the other format changes the hash it
gives). Links of format 1 do not cover ``sealed_at``: verification never quotes it for them.

``prev`` is the link hash of the previous event in the log, ``prev_in_aggregate`` that of the
previous version of the same aggregate (GENESIS for the first of each). ``summary_hash``
commits to the event's pseudonymised summary (``ks_engine.audit.summary``), so that an export
of summaries can be checked against the chain without the stored, encrypted events. A
checkpoint signs ``{format, position, head, events, signed_at}`` with the engine's Ed25519 key.
docs/audit.md describes the same rules for auditors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, Protocol

import orjson

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "ks-checkpoint/1"
CHAIN_FORMAT = 2  # the format new links are sealed in
CHAIN_FORMATS = (1, 2)  # the formats verification knows


# json.dumps with these options, built once: dumps builds an encoder on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_CANONICAL = _ENCODER.encode
# The C encoder that ``_ENCODER.encode`` builds for every call (with a Python frame and a
# closure around it), built once, for the summary of every case event that verification
# hashes. Without the check for circular references: a summary is a tree built afresh for
# each event. The same text for any value (a unit test holds it equal to ``json.dumps``).
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # None where json has no C part
_SUMMARY_ENCODER = (
    None
    if _C_ENCODER is None
    else _C_ENCODER(None, _ENCODER.default, _quoted, None, ":", ",", True, False, True)
)


def canonical(obj: Any) -> bytes:
    """The canonical JSON bytes of ``obj``: sorted keys, no whitespace, ASCII only."""
    return _CANONICAL(obj).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body_hash(
    *,
    aggregate: str,
    version: int,
    topic: str,
    state_hash: str,
    summary_hash: str,
    prev_in_aggregate: str,
    chain_format: int = CHAIN_FORMAT,
    sealed_at: str = "",
) -> str:
    """The hash of what a link says about its event (``body`` of the same fields, hashed).

    Written out by hand in canonical order (the keys sorted, strings quoted as ``canonical``
    quotes them), because verification computes it for every stored event; a unit test holds
    it equal to ``canonical`` of ``body``. Format 1 leaves out ``chain_format`` and
    ``sealed_at``; a format this engine does not know hashes as format 2 (and so never
    matches a format 1 link's hash)."""
    if chain_format == 1:
        text = (
            f'{{"aggregate":{_quoted(aggregate)},"prev_in_aggregate":{_quoted(prev_in_aggregate)},'
            f'"state_hash":{_quoted(state_hash)},"summary_hash":{_quoted(summary_hash)},'
            f'"topic":{_quoted(topic)},"version":{int(version)}}}'
        )
    else:
        text = (
            f'{{"aggregate":{_quoted(aggregate)},"chain_format":{int(chain_format)},'
            f'"prev_in_aggregate":{_quoted(prev_in_aggregate)},"sealed_at":{_quoted(sealed_at)},'
            f'"state_hash":{_quoted(state_hash)},"summary_hash":{_quoted(summary_hash)},'
            f'"topic":{_quoted(topic)},"version":{int(version)}}}'
        )
    return sha256(text.encode())


def body(
    *,
    aggregate: str,
    version: int,
    topic: str,
    state_hash: str,
    summary_hash: str,
    prev_in_aggregate: str,
    chain_format: int = CHAIN_FORMAT,
    sealed_at: str = "",
) -> dict[str, Any]:
    """The fields ``body_hash`` covers, as a dictionary (what an export shows an auditor)."""
    fields: dict[str, Any] = {
        "aggregate": aggregate,
        "version": version,
        "topic": topic,
        "state_hash": state_hash,
        "summary_hash": summary_hash,
        "prev_in_aggregate": prev_in_aggregate,
    }
    if chain_format != 1:
        fields |= {"chain_format": chain_format, "sealed_at": sealed_at}
    return fields


def link_hash(position: int, prev: str, body: str) -> str:
    """The hash of a link: its position, its predecessor's link hash and its body hash
    (canonical JSON written out by hand, like ``body_hash``)."""
    text = f'{{"body":{_quoted(body)},"position":{int(position)},"prev":{_quoted(prev)}}}'
    return sha256(text.encode())


def summary_hash(summary: dict[str, Any] | None) -> str:
    """The hash of an event's pseudonymised summary; empty for events without one."""
    if summary is None:
        return ""
    if _SUMMARY_ENCODER is None:
        return sha256(canonical(summary))
    return sha256("".join(_SUMMARY_ENCODER(summary, 0)).encode())


# orjson writes plain JSON values (str, int, bool, None, and lists and dicts of them with str
# keys) with sorted keys as the canonical text, when that text is ASCII without DEL (json escapes
# both), in a tenth of the time. What it would write otherwise than json goes to ``_not_plain``:
# times, dataclasses and subclasses (of str, int, dict, list) with these options, and types it
# does not know. Floats, UUIDs and Enums it writes on its own: a caller must rule those out.
_PLAIN_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _not_plain(obj: Any) -> Any:
    raise TypeError(f"{type(obj).__name__} is not a plain JSON value")


def plain_summary_hash(summary: dict[str, Any]) -> str:
    """``summary_hash(summary)`` of a summary that holds no float, UUID or Enum, written by
    orjson where that gives the same text (hashed as ``summary_hash`` does otherwise)."""
    try:
        text = orjson.dumps(summary, default=_not_plain, option=_PLAIN_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError too: an integer beyond 64 bits, a key not str
        return summary_hash(summary)
    if not text.isascii() or b"\x7f" in text:
        return summary_hash(summary)
    return sha256(text)


@dataclass(frozen=True)
class Link:
    """One event's place in the chain, as sealed."""

    position: int
    aggregate: str
    version: int
    topic: str
    state_hash: str
    summary_hash: str
    prev_in_aggregate: str
    prev: str
    link_hash: str
    sealed_at: str
    chain_format: int = CHAIN_FORMAT

    @property
    def body_hash(self) -> str:
        return body_hash(
            aggregate=self.aggregate,
            version=self.version,
            topic=self.topic,
            state_hash=self.state_hash,
            summary_hash=self.summary_hash,
            prev_in_aggregate=self.prev_in_aggregate,
            chain_format=self.chain_format,
            sealed_at=self.sealed_at,
        )

    def body(self) -> dict[str, Any]:
        """The fields its body hash covers."""
        return body(
            aggregate=self.aggregate,
            version=self.version,
            topic=self.topic,
            state_hash=self.state_hash,
            summary_hash=self.summary_hash,
            prev_in_aggregate=self.prev_in_aggregate,
            chain_format=self.chain_format,
            sealed_at=self.sealed_at,
        )

    @property
    def sealed_time(self) -> str | None:
        """When it was sealed, if its hash covers that (chain format 2 on); else None."""
        return self.sealed_at if self.chain_format == 2 else None

    def recomputed_hash(self) -> str:
        """The link hash its fields give: differs from ``link_hash`` if the link was altered."""
        return link_hash(self.position, self.prev, self.body_hash)


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain's head at ``position`` is ``head`` after ``events`` links."""

    position: int
    head: str
    events: int
    signed_at: str
    key_fingerprint: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.position, self.head, self.events, self.signed_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "position": self.position,
            "head": self.head,
            "events": self.events,
            "signed_at": self.signed_at,
            "key_fingerprint": self.key_fingerprint,
            "signature": self.signature,
        }


def checkpoint_from_json(doc: dict[str, Any]) -> Checkpoint:
    """A checkpoint from its published JSON; ValueError when it is not one."""
    try:
        if doc["format"] != CHECKPOINT_FORMAT:
            raise ValueError(f"unknown checkpoint format {doc['format']!r}")
        return Checkpoint(
            position=int(doc["position"]),
            head=str(doc["head"]),
            events=int(doc["events"]),
            signed_at=str(doc["signed_at"]),
            key_fingerprint=str(doc["key_fingerprint"]),
            signature=str(doc["signature"]),
        )
    except (KeyError, TypeError) as e:
        raise ValueError(f"not a checkpoint: {type(e).__name__} {e}") from None


def checkpoint_message(position: int, head: str, events: int, signed_at: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical(
        {
            "format": CHECKPOINT_FORMAT,
            "position": position,
            "head": head,
            "events": events,
            "signed_at": signed_at,
        }
    )


@dataclass(frozen=True)
class Head:
    """The newest link: its position and hash."""

    position: int
    link_hash: str


class ChainStore(Protocol):
    """Where links and checkpoints are kept (beside the event store, in the same database)."""

    def head(self) -> Head | None:
        """The newest link, or None for an empty chain."""

    def count(self, upto: int | None = None) -> int:
        """How many links the chain has (up to and including position ``upto``)."""

    def append(self, links: Sequence[Link], after: Head | None) -> None:
        """Add links after ``after``; DuplicateRowError if the chain moved meanwhile."""

    def links(self, start: int, limit: int) -> list[Link]:
        """Links from position ``start`` on, in order."""

    def link_of(self, aggregate: str, version: int) -> Link | None:
        """The link of one version of one aggregate."""

    def links_of(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Link]:
        """The links of several (aggregate, version) pairs in one read; a pair without a
        link is left out."""

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint (not yet published)."""

    def unpublished_checkpoints(self) -> list[Checkpoint]:
        """Checkpoints not yet published to NATS, oldest first."""

    def mark_published(self, position: int) -> None:
        """Record that the checkpoint at ``position`` was published."""
