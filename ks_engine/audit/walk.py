"""The notification log and the chain side by side, by position, for ``ks audit verify``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, PersistenceError

from ks_engine.audit.chain import ChainStore, Link

BATCH = 1000


@dataclass(frozen=True)
class Unreadable:
    """A stored record the event store cannot even read back (its bytes were altered)."""

    id: int


Stored = Notification | Unreadable


def stored_events(app: Application[UUID], upto: int, start: int = 1) -> Iterator[Stored]:
    """The notification log from ``start`` up to ``upto``; a record that cannot be read is
    pinpointed."""
    select = app.recorder.select_notifications
    while start <= upto:
        try:
            batch = select(start=start, limit=BATCH, stop=upto)
        except (PersistenceError, ValueError, TypeError):  # one record is unreadable
            try:
                yield from map(_typed, select(start=start, limit=1, stop=start))
            except (PersistenceError, ValueError, TypeError):
                yield Unreadable(start)
            start += 1
            continue
        if not batch:
            return
        yield from map(_typed, batch)
        start = batch[-1].id + 1


def _typed(n: Notification) -> Notification:
    """The record with a text topic and bytes state, whatever its columns hold now (a value
    of another type was put there directly, and compares as changed)."""
    if isinstance(n.topic, str) and isinstance(n.state, bytes):
        return n
    state = n.state if isinstance(n.state, bytes) else b"\0not bytes: " + repr(n.state).encode()
    return Notification(
        id=n.id,
        originator_id=n.originator_id,
        originator_version=n.originator_version,
        topic=str(n.topic),
        state=state,
    )


def merged(
    app: Application[UUID], store: ChainStore, upto: int, first: int = 1, last: int | None = None
) -> Iterator[tuple[Link | None, Stored | None]]:
    """Links and stored events side by side by position (None where one side has nothing),
    from position ``first``; up to ``last`` when given (links after ``upto`` otherwise)."""

    def links() -> Iterator[Link]:
        """In position order; a link whose position reads out of order (no number: the
        store gives -1) comes last, once, as a seal standing somewhere else."""
        start, late = first, dict[tuple[int, str], Link]()
        while batch := store.links(start, BATCH):
            fresh = [link for link in batch if link.position >= start]
            late |= {(lk.position, lk.link_hash): lk for lk in batch if lk.position < start}
            if last is not None and fresh and fresh[-1].position > last:
                yield from (link for link in fresh if link.position <= last)
                break
            yield from fresh
            if not fresh:
                break
            start = fresh[-1].position + 1
        yield from late.values()

    stop = upto if last is None else min(upto, last)
    ls, es = links(), stored_events(app, stop, first)
    link, event = next(ls, None), next(es, None)
    while link is not None or event is not None:
        if event is None or (link is not None and link.position < event.id):
            yield link, None
            link = next(ls, None)
        elif link is None or event.id < link.position:
            yield None, event
            event = next(es, None)
        else:
            yield link, event
            link, event = next(ls, None), next(es, None)
