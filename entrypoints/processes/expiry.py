"""The expiry process: closes cases inactive past the retention rule, now and then."""

from __future__ import annotations

from functools import partial

from entrypoints.processes.host import process_main
from ks_engine.bootstrap import Engine
from ks_engine.privacy.expiry import run_expiry
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """Expiry every KS_EXPIRY_EVERY_SECONDS."""
    return partial(
        run_expiry,
        engine.referrals,
        engine.settings.expiry,
        every_seconds=engine.settings.expiry_every_seconds,
    )


if __name__ == "__main__":
    process_main("expiry", component)
