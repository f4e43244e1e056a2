"""The projectors process: KS_EVENTS into the read models (work queue, case view, monitoring)."""

from __future__ import annotations

from functools import partial

from adapters.nats.projectors import run_projectors
from entrypoints.processes.host import process_main
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The projector of every read model, each view from its checkpoint."""
    return partial(run_projectors, engine, link.js)


if __name__ == "__main__":
    process_main("projectors", component)
