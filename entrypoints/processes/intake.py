"""The intake process: partners' signals and confirmations from KS_SIGNALS into the store."""

from __future__ import annotations

from adapters.nats.intake import Intake
from entrypoints.processes.host import process_main
from ks_engine.bootstrap import Engine
from ks_engine.partners import load_partners
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The intake worker on the engine's store, judging sources by the partner registry."""
    path = engine.settings.partners_path
    return Intake(engine, link.js, partners=load_partners(path) if path else None).run


if __name__ == "__main__":
    process_main("intake", component)
