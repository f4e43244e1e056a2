"""The sealer process: seals what writers left unsealed, signs and publishes checkpoints."""

from __future__ import annotations

from functools import partial

from entrypoints.processes.host import process_main
from ks_engine.audit.sealer import run_sealer
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The audit sealer, checkpointing every KS_AUDIT_CHECKPOINT_SECONDS."""
    return partial(
        run_sealer,
        engine.audit.sealer,
        js=link.js,
        checkpoint_seconds=engine.settings.audit_checkpoint_seconds,
    )


if __name__ == "__main__":
    process_main("sealer", component)
