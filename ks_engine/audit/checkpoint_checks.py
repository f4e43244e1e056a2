"""The checks of signed checkpoints for ``ks audit verify``: their signatures, the copies kept
outside the database (``independent.py``), the chain at their positions, and truncation.

A checkpoint's position, head, count of events and time are covered by its Ed25519 signature;
its ``key_fingerprint`` only names the key to check with (any other value fails as forged).
The ``published`` column of the stored ones is not read: it only tells the sealer what to
publish.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ks_engine.audit import signing
from ks_engine.audit.chain import Checkpoint, Link
from ks_engine.audit.differences import checkpoint_differences, joined
from ks_engine.audit.findings import Report, capital
from ks_engine.audit.independent import CheckpointSource


class CheckpointChecks:
    """Checks checkpoints against the trusted keys, kept copies and the chain."""

    def __init__(self, trusted: list[Ed25519PublicKey]) -> None:
        self.trusted = {signing.fingerprint(k): k for k in trusted}
        self.forged: set[int] = set()  # positions of checkpoints without a valid signature

    def compare(
        self, source: CheckpointSource, checkpoints: dict[int, Checkpoint], report: Report
    ) -> None:
        """Each checkpoint kept in ``source`` must be in the store as kept; one that is not
        joins the checks below (it still proves what the chain held)."""
        report.sources[source.name] = len(source.checkpoints)
        for where in source.unreadable:
            report.add(
                None,
                "forged_checkpoint",
                f"{capital(where)} is not a checkpoint of ks-engine: it was written by someone "
                "else or altered.",
            )
        for cp in source.checkpoints:
            stored = checkpoints.get(cp.position)
            if stored == cp:
                report.independent += 1
                newest = report.newest_independent
                if newest is None or cp.position > newest.position:
                    report.newest_independent = cp
                continue
            self.signatures([cp], report)
            kept = f"The checkpoint for position {cp.position}, signed at {cp.signed_at} and " + (
                "published to KS_EVENTS" if source.name == "KS_EVENTS" else f"kept in {source.name}"
            )
            if stored is None:
                report.add(
                    cp.position,
                    "checkpoint_removed",
                    f"{kept}, is missing from the store: it was removed.",
                )
            else:
                report.add(
                    cp.position,
                    "checkpoint_replaced",
                    f"{kept}, differs from the one in the store: the stored one was replaced or "
                    f"altered ({joined(checkpoint_differences(cp, stored))}).",
                )
            checkpoints[cp.position] = cp

    def signatures(self, checkpoints: Iterable[Checkpoint], report: Report) -> None:
        for cp in checkpoints:
            key = self.trusted.get(cp.key_fingerprint)
            if key is not None and signing.is_valid_signature(key, cp.message(), cp.signature):
                report.checkpoints += 1
                continue
            self.forged.add(cp.position)
            what = f"The checkpoint for position {cp.position} (signed at {cp.signed_at})"
            if key is None:
                report.add(
                    cp.position,
                    "forged_checkpoint",
                    f"{what} names signing key {cp.key_fingerprint[:32]!r} (key_fingerprint), "
                    f"which is not the engine's ({', '.join(self.trusted)}): it was forged or "
                    "its key was altered.",
                )
            else:
                report.add(
                    cp.position,
                    "forged_checkpoint",
                    f"{what} does not carry a valid signature of the engine's key: its position "
                    "(position), head hash (head), count of events (events), signing time "
                    "(signed_at) or signature (signature) was altered, or it was forged.",
                )

    def against_chain(self, cp: Checkpoint, link: Link, count: int, report: Report) -> None:
        details = []
        if cp.head != link.link_hash:
            details.append("its head hash (head) is not the chain's hash at that position")
        if cp.events != count:
            details.append(
                f"it counts {cp.events} events (events) where the chain holds {count} up to there"
            )
        if not details:
            return
        cause = (
            "the checkpoint was altered"
            if cp.position in self.forged
            else "events up to there were altered, removed or inserted and their seals recomputed"
        )
        report.add(
            cp.position,
            "checkpoint_mismatch",
            f"The chain up to position {cp.position} no longer matches the checkpoint "
            f"signed at {cp.signed_at} ({joined(details)}): {cause}.",
        )

    def truncation(
        self, checkpoints: dict[int, Checkpoint], last: Link | None, report: Report
    ) -> None:
        """``checkpoints``: those whose position no link of the chain has (any more)."""
        end = last.position if last else 0
        for pos, cp in sorted(checkpoints.items()):
            if pos < end:
                report.add(
                    pos,
                    "removed",
                    f"The event at position {pos}, which the checkpoint signed at "
                    f"{cp.signed_at} ends with, is no longer sealed: it was removed.",
                )
        beyond = [cp for pos, cp in sorted(checkpoints.items()) if pos > end]
        if beyond:
            cp = beyond[-1]
            report.add(
                cp.position,
                "truncated",
                f"The checkpoint signed at {cp.signed_at} covers {cp.events} events up to "
                f"position {cp.position}, but the chain now ends at position {end}: the "
                "newest events were removed (truncated).",
            )
