"""The relay process: Referral events from the store to KS_EVENTS, feedback to KS_FEEDBACK."""

from __future__ import annotations

from functools import partial

from adapters.nats.relay import run_relay
from entrypoints.processes.host import process_main
from ks_engine.bootstrap import Engine, reading_parts
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The relay, resuming from its recorded position (`ks run`, `ks relay`): its windows of
    the log are read and translated in a further process, beside its publishing."""
    return partial(run_relay, engine, link.js, translating=partial(reading_parts, engine.settings))


def component_here(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The relay with its windows made in a worker thread of its process (`ks run
    --one-process`, the tests' in-process engines)."""
    return partial(run_relay, engine, link.js)


if __name__ == "__main__":
    process_main("relay", component)
