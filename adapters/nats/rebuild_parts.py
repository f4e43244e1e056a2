"""A rebuild's batches folded by case in worker processes, written by this one.

Each batch is split by case (``projections.partition``); this process reads the stored
documents of each part's cases, the workers parse and fold the parts side by side, and this
process writes every part with each view's checkpoint in one transaction per view, so there is
one writer (SQLite's rule) and a view is never ahead of or behind its checkpoint.

The workers fold with the garbage collector paused (``ks_engine.heap.collection_paused``): a
part's objects live until it is folded and are freed by reference counting after, and the
collector walking them meanwhile took a fifth of the workers' CPU (27.6 against 22.2 s for
450,000 events).

A batch is written while the next one is read and folded. The next batch's cases that the one
being written touches are folded from that batch's documents, not from the database, which may
not hold them yet; every earlier batch is written before the next one's documents are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from ks_engine.heap import collection_paused
from projections.errors import InvalidEventError, ProjectionError
from projections.partition import FoldedPart, Message, fold_part, split, stored_before
from projections.store import FoldingProjection, ViewDatabase, apply_writes, documents_by_key

Docs = dict[str, str | None]  # case id -> document (None: no row)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from this one: they start at once, with the modules loaded."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def fold_paused(
    projections: Sequence[FoldingProjection],
    stored: Mapping[str, Mapping[str, str]],
    messages: Sequence[Message],
) -> FoldedPart:
    """``fold_part`` in a worker, with no collection meanwhile."""
    with collection_paused():
        return fold_part(projections, stored, messages)


def _stored(
    db: ViewDatabase,
    projections: Sequence[FoldingProjection],
    parts: list[list[Message]],
    newer: Mapping[str, Docs],
) -> list[dict[str, dict[str, str]]]:
    """For each part, each view's documents of the part's cases: ``newer[view]`` where it
    names the case, else what the database holds (none for a case the part opens)."""
    with db.read() as tx:
        out = []
        for part in parts:
            cases = stored_before(part)
            docs: dict[str, dict[str, str]] = {}
            for p in projections:
                recent = newer.get(p.name, {})
                found = documents_by_key(tx, p.select, (c for c in cases if c not in recent))
                for case_id in cases & recent.keys():
                    doc = recent[case_id]
                    if doc is not None:
                        found[case_id] = doc
                docs[p.name] = found
            out.append(docs)
        return out


class PartsInFlight:
    """Folds consecutive batches in ``parts`` parts on ``pool`` and writes each one while the
    next is folded (see the module docstring). ``apply`` each batch in stream order, then
    ``finish``; ``settle`` after a failure."""

    def __init__(
        self,
        pool: Executor,
        parts: int,
        db: ViewDatabase,
        projections: Sequence[FoldingProjection],
    ) -> None:
        self._pool = pool
        self._parts = parts
        self._db = db
        self._projections = projections
        self._writing: asyncio.Future[int] | None = None
        self._written = 0  # the last stream sequence written (0: none yet)
        self._newer: dict[str, Docs] = {}  # the documents of the batch being written

    async def apply(self, messages: Sequence[Message]) -> int:
        """Fold ``messages`` (consecutive, following the previous batch, or the views'
        checkpoints for the first) and start writing them once the previous batch is
        written; the last stream sequence written so far."""
        seqs = range(messages[0][2], messages[-1][2] + 1)
        if len(seqs) != len(messages):
            raise ProjectionError("the next message did not arrive in order; run the rebuild again")
        loop = asyncio.get_running_loop()
        split_up = [part for part in split(messages, self._parts) if part]
        stored = await asyncio.to_thread(
            _stored, self._db, self._projections, split_up, self._newer
        )
        try:
            folded: list[FoldedPart] = await asyncio.gather(
                *(
                    loop.run_in_executor(self._pool, fold_paused, self._projections, docs, part)
                    for docs, part in zip(stored, split_up, strict=True)
                )
            )
        except InvalidEventError as e:
            raise ProjectionError(str(e)) from None
        await self.finish()
        self._newer = {
            p.name: {k: v for f in folded for k, v in f.views[p.name].docs.items()}
            for p in self._projections
        }
        self._writing = asyncio.ensure_future(self._write(seqs, folded))
        return self._written

    async def _write(self, seqs: range, folded: list[FoldedPart]) -> int:
        through = max(f.through for f in folded)
        # Each view in its own transaction, side by side where the database allows (PostgreSQL)
        await asyncio.gather(
            *(
                asyncio.to_thread(
                    apply_writes,
                    self._db,
                    p.name,
                    seqs,
                    through,
                    [f.views[p.name].writes for f in folded],
                )
                for p in self._projections
            )
        )
        return seqs[-1]

    async def finish(self) -> int:
        """Wait until the batch being written is written; the last stream sequence written."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            self._written = await writing
        return self._written

    async def settle(self) -> int:
        """After a failure: wait for the batch being written, whatever comes of it; the last
        stream sequence written."""
        with contextlib.suppress(Exception):
            await self.finish()
        return self._written


async def apply_in_parts(
    pool: Executor,
    parts: int,
    db: ViewDatabase,
    projections: Sequence[FoldingProjection],
    messages: Sequence[Message],
) -> int:
    """Fold ``messages`` (consecutive, from the one after the views' checkpoints) in ``parts``
    parts on ``pool`` and write them; the last stream sequence applied."""
    in_flight = PartsInFlight(pool, parts, db, projections)
    try:
        await in_flight.apply(messages)
        return await in_flight.finish()
    finally:
        await in_flight.settle()
