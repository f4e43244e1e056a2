"""The checkpoints the sealer published to ``KS_EVENTS``: the copy outside the database.

``ks audit verify`` compares them with the checkpoints in the store, so that removing the
newest events together with their seals and the stored checkpoints is still found.
"""

from __future__ import annotations

import json

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from ks_engine.audit.chain import checkpoint_from_json
from ks_engine.audit.independent import CheckpointSource
from projections.event import CHECKPOINT_SUBJECT, STREAM


async def read_published(js: JetStreamContext) -> CheckpointSource:
    """Every message on ``ks.events.checkpoints``, oldest first."""
    found = CheckpointSource(STREAM)
    seq = 1
    while True:
        try:
            msg = await js.get_msg(STREAM, seq=seq, subject=CHECKPOINT_SUBJECT, next=True)
        except NotFoundError:
            return found
        at = int(msg.seq or seq)
        try:
            found.checkpoints.append(checkpoint_from_json(json.loads(msg.data or b"")))
        except (ValueError, TypeError):  # json.JSONDecodeError is a ValueError too
            found.unreadable.append(f"message {at} on {CHECKPOINT_SUBJECT} in {STREAM}")
        seq = at + 1
