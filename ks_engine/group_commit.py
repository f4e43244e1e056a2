"""Group commit for concurrent single-record saves (the access log of concurrent requests).

Each caller waits until its record is stored, so nothing is answered before it is logged; but
callers arriving while a save is under way are stored together in the next one. The first
waiting caller does the save for everyone queued (no background thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording


@dataclass
class _Slot:
    record: Aggregate
    position: int | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    """Saves records in groups; ``submit`` returns the log position of the record's event."""

    def __init__(self, save: Callable[..., Sequence[Recording[Any]]]) -> None:
        self._save = save
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._saving = False

    def submit(self, record: Aggregate) -> int:
        slot = _Slot(record)
        with self._cond:
            self._queue.append(slot)
            while not slot.done:
                if self._saving:
                    self._cond.wait()
                    continue
                self._saving = True
                group, self._queue = self._queue, []
                self._cond.release()
                try:
                    self._store(group)
                finally:
                    self._cond.acquire()
                    self._saving = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        assert slot.position is not None
        return slot.position

    def save_together(self, records: Sequence[Aggregate]) -> list[int]:
        """Store ``records`` in one transaction now (a caller that groups them itself); the
        log position of each one's event."""
        recordings = self._save(*records)
        positions: dict[UUID, int] = {
            r.domain_event.originator_id: r.notification.id for r in recordings
        }
        return [positions[record.id] for record in records]

    def _store(self, group: list[_Slot]) -> None:
        try:
            positions = self.save_together([s.record for s in group])
        except BaseException as exc:  # every caller of the group learns of the failure
            for s in group:
                s.error, s.done = exc, True
            return
        for s, position in zip(group, positions, strict=True):
            s.position, s.done = position, True
