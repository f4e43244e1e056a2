"""Saving and replaying aggregates without eventsourcing's per-object protocol checks.

``ProcessingEvent.collect_events`` asks ``isinstance(obj, <runtime-checkable Protocol>)`` for
every object saved, and ``project_aggregate`` asserts one for every event replayed; on Python
3.11 each such check walks the protocol's members and took about a fifth of the intake's time
for a batch of signals, and about two fifths of replaying cases. Our aggregates all derive from
``Aggregate``, which a plain class check recognises; anything else takes the general path. An
event without ``mutate`` still fails when it is replayed (AttributeError instead of the
assertion).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate


class AggregateProcessingEvent(ProcessingEvent[UUID]):
    """The events and aggregates of one save."""

    def collect_events(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """``project_aggregate`` without its protocol assertion per event: each event mutates."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class ReplayingRepository(Repository[UUID]):
    """The library's repository, replaying stored events with ``replay``."""

    @classmethod
    def like(cls, other: Repository[UUID]) -> ReplayingRepository:
        """A repository on ``other``'s stores, with its cache and its fast-forward settings."""
        repository = cls(
            other.event_store,
            snapshot_store=other.snapshot_store,
            fastforward=other.fastforward,
            fastforward_skipping=other.fastforward_skipping,
            deepcopy_from_cache=other.deepcopy_from_cache,
        )
        repository.cache = other.cache
        return repository

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = replay,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        return super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )
