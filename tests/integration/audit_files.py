"""A sealed store's SQLite file changed directly, as someone with access to the file could:
the forgeries the tests of `ks audit verify` make."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ks_engine.audit import chain


@contextmanager
def events_db(data: Path) -> Iterator[sqlite3.Connection]:
    """The store's events.sqlite for one transaction (committed when the block ends), closed
    after it."""
    db = sqlite3.connect(data / "events.sqlite")
    try:
        with db:
            yield db
    finally:
        db.close()


def edit(data: Path, *statements: str) -> None:
    """Run ``statements`` on the store's file in one transaction."""
    with events_db(data) as db:
        for statement in statements:
            db.execute(statement)


def reseal_from(db: sqlite3.Connection, position: int) -> None:
    """Recompute the links from ``position`` on over what the file now holds, as a forger
    with the file but without the engine's signing key would."""
    links = db.execute(
        "SELECT position, aggregate, version, topic, summary_hash, prev_in_aggregate,"
        " sealed_at, chain_format FROM audit_chain WHERE position >= ? ORDER BY position",
        (position,),
    ).fetchall()
    prev = db.execute(
        "SELECT link_hash FROM audit_chain WHERE position = ?", (position - 1,)
    ).fetchone()[0]
    rewritten: dict[str, str] = {}
    for pos, aggregate, version, topic, summary_hash, before, sealed_at, form in links:
        prev_in_aggregate = rewritten.get(aggregate, before)
        state = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (pos,)).fetchone()[0]
        state_hash = chain.sha256(state)
        body = chain.body_hash(
            aggregate=aggregate,
            version=version,
            topic=topic,
            state_hash=state_hash,
            summary_hash=summary_hash,
            prev_in_aggregate=prev_in_aggregate,
            chain_format=form,
            sealed_at=sealed_at,
        )
        link_hash = chain.link_hash(pos, prev, body)
        db.execute(
            "UPDATE audit_chain SET state_hash = ?, prev_in_aggregate = ?, prev = ?,"
            " link_hash = ? WHERE position = ?",
            (state_hash, prev_in_aggregate, prev, link_hash, pos),
        )
        prev = rewritten[aggregate] = link_hash
