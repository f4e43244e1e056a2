"""A rebuild's batches folded by case in worker processes, written by this one.

Each batch is split by case (``projections.partition``); this process reads the stored
documents of each part's cases, the workers parse and fold the parts side by side, and this
process writes every part with each view's checkpoint in one transaction per view, so there is
one writer (SQLite's rule) and a view is never ahead of or behind its checkpoint.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from projections.errors import InvalidEventError, ProjectionError
from projections.partition import FoldedPart, Message, case_of, fold_part, split
from projections.store import FoldingProjection, ViewDatabase, apply_writes, documents_by_key


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from this one: they start at once, with the modules loaded."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def _stored(
    db: ViewDatabase, projections: Sequence[FoldingProjection], parts: list[list[Message]]
) -> list[dict[str, dict[str, str]]]:
    """For each part, each view's stored documents of the part's cases."""
    with db.read() as tx:
        return [
            {
                p.name: documents_by_key(tx, p.select, {case_of(m[1]) for m in part})
                for p in projections
            }
            for part in parts
        ]


async def apply_in_parts(
    pool: Executor,
    parts: int,
    db: ViewDatabase,
    projections: Sequence[FoldingProjection],
    messages: Sequence[Message],
) -> int:
    """Fold ``messages`` (consecutive, from the one after the views' checkpoints) in ``parts``
    parts on ``pool`` and write them; the last stream sequence applied."""
    loop = asyncio.get_running_loop()
    split_up = [part for part in split(messages, parts) if part]
    stored = await asyncio.to_thread(_stored, db, projections, split_up)
    try:
        folded: list[FoldedPart] = await asyncio.gather(
            *(
                loop.run_in_executor(pool, fold_part, projections, docs, part)
                for docs, part in zip(stored, split_up, strict=True)
            )
        )
    except InvalidEventError as e:
        raise ProjectionError(str(e)) from None
    seqs = range(messages[0][2], messages[-1][2] + 1)
    if len(seqs) != len(messages):
        raise ProjectionError("the next message did not arrive in order; run the rebuild again")
    through = max(f.through for f in folded)
    # Each view in its own transaction, side by side where the database allows (PostgreSQL)
    await asyncio.gather(
        *(
            asyncio.to_thread(
                apply_writes, db, p.name, seqs, through, [f.writes[p.name] for f in folded]
            )
            for p in projections
        )
    )
    return seqs[-1]
