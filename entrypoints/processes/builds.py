"""Every process's component by name, for `ks run --one-process` and the in-process tests."""

from __future__ import annotations

from entrypoints.processes import api, expiry, intake, projectors, relay, sealer
from entrypoints.processes.host import Build
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component

BUILDS: dict[str, Build] = {
    "intake": intake.component,
    "relay": relay.component_here,
    "projectors": projectors.component,
    "api": api.component,
    "sealer": sealer.component,
    "expiry": expiry.component,
}


def components(engine: Engine, link: NatsLink, board: StatusBoard) -> dict[str, Component]:
    """Every component of the engine, built for one process (`ks run --one-process`)."""
    return {name: build(engine, link, board) for name, build in BUILDS.items()}
