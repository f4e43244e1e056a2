"""The relay process: Referral events from the store to KS_EVENTS, feedback to KS_FEEDBACK."""

from __future__ import annotations

from functools import partial

from adapters.nats.relay import run_relay
from entrypoints.processes.host import process_main
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The relay, resuming from its recorded position."""
    return partial(run_relay, engine, link.js)


if __name__ == "__main__":
    process_main("relay", component)
