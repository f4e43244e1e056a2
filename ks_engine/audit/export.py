"""``ks audit export``: a municipality's case events of a period, pseudonymised, with what an
auditor needs to check them without ks-engine (docs/audit.md, docs/verify_export.py).

The file is JSON Lines. The first line is the header (format, selection, the engine's public
key). Then one ``link`` line for every position of the chain from just after the signed
checkpoint before the first exported event up to the first signed checkpoint at or after the
last one: a link carries ``prev``, ``body_hash`` and ``link_hash``; the links of exported
events also carry ``body`` (the fields ``body_hash`` covers) and ``event`` (the event's
pseudonymised summary, whose hash is ``body.summary_hash``). Links of other events say
nothing about them but their hashes. The last lines are the two checkpoints (``start`` is
absent when the segment starts at the chain's first position).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any
from uuid import UUID

from eventsourcing.application import Application

from ks_engine.audit import signing
from ks_engine.audit.chain import GENESIS, ChainStore, Checkpoint, Link
from ks_engine.audit.replay import case_ids
from ks_engine.audit.sealer import Sealer
from ks_engine.audit.summary import summarise
from ks_engine.clock import AMSTERDAM

EXPORT_FORMAT = "ks-audit-export/1"
BATCH = 1000
Json = dict[str, Any]


class ExportError(Exception):
    """The export cannot be made (nothing sealed yet, or no checkpoint can be signed)."""


@dataclass(frozen=True)
class ExportResult:
    """What was written: how many events and links, and the positions the segment spans."""

    events: int
    links: int
    first_position: int
    last_position: int


def _links(store: ChainStore, start: int, stop: int) -> Iterator[Link]:
    position = start
    while position <= stop and (batch := store.links(position, BATCH)):
        for link in batch:
            if link.position > stop:
                return
            yield link
        position = batch[-1].position + 1


def export(
    app: Application[UUID],
    store: ChainStore,
    sealer: Sealer,
    out: IO[str],
    *,
    municipality: str,
    start: date,
    end: date,
) -> ExportResult:
    """Write the export of ``municipality``'s case events from ``start`` to ``end`` to ``out``."""
    sealer.seal_pending()
    sealer.checkpoint()  # the newest events are covered by a signed checkpoint too
    wanted = {(s["case"], s["version"]): s for s in _summaries(app, municipality, start, end)}
    chosen: dict[int, tuple[Link, Json]] = {}
    for (case, version), summary in wanted.items():
        link = store.link_of(case, version)
        if link is None:
            raise ExportError(f"event {version} of case {case} is not sealed; run ks audit seal")
        chosen[link.position] = (link, summary)
    checkpoints = store.checkpoints()
    if not checkpoints:
        raise ExportError("nothing is sealed yet: the store holds no events")
    first = min(chosen, default=checkpoints[-1].position)
    last = max(chosen, default=checkpoints[-1].position)
    before = [cp for cp in checkpoints if cp.position < first]
    after = [cp for cp in checkpoints if cp.position >= last]
    opening: Checkpoint | None = before[-1] if before else None
    closing = after[0]
    segment_start = opening.position + 1 if opening else 1
    key = sealer.signing_key.public_key()
    header = {
        "kind": "header",
        "format": EXPORT_FORMAT,
        "municipality": municipality,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "genesis": GENESIS,
        "public_key_pem": signing.public_key_pem(key),
        "key_fingerprint": signing.fingerprint(key),
    }
    _write(out, header)
    links = 0
    for link in _links(store, segment_start, closing.position):
        line: Json = {
            "kind": "link",
            "position": link.position,
            "prev": link.prev,
            "body_hash": link.body_hash,
            "link_hash": link.link_hash,
        }
        if link.position in chosen:
            line["body"] = link.body()
            line["event"] = chosen[link.position][1]
        _write(out, line)
        links += 1
    if opening is not None:
        _write(out, {"kind": "checkpoint", "role": "start", **opening.as_json()})
    _write(out, {"kind": "checkpoint", "role": "end", **closing.as_json()})
    return ExportResult(len(chosen), links, segment_start, closing.position)


def _summaries(app: Application[UUID], municipality: str, start: date, end: date) -> Iterator[Json]:
    for case_id in case_ids(app):
        events = list(app.events.get(case_id))
        first: Any = events[0]
        if first.municipality != municipality:
            continue
        for event in events:
            day = event.occurred_at.astimezone(AMSTERDAM).date()  # type: ignore[attr-defined]
            if start <= day <= end:
                yield summarise(event, municipality)


def _write(out: IO[str], obj: Json) -> None:
    out.write(json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n")
