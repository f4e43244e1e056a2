"""A rebuild's worker folds its part with the garbage collector paused, and gives it back."""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence

from adapters.nats.rebuild_parts import fold_paused
from projections.event import ReferralEvent
from projections.store import Folded


class _Recording:
    """A folding projection that notes whether the collector was enabled while it folded."""

    name = "recording"
    select = "SELECT case_id, doc FROM recording WHERE case_id IN ({})"

    def __init__(self) -> None:
        self.collector_enabled: list[bool] = []

    def fold(self, stored: Mapping[str, str], events: Sequence[ReferralEvent]) -> Folded:
        self.collector_enabled.append(gc.isenabled())
        return Folded([], dict.fromkeys(stored))


def test_a_part_is_folded_with_no_collection_and_the_collector_is_enabled_after() -> None:
    recording = _Recording()
    assert gc.isenabled()
    folded = fold_paused([recording], {"recording": {"case-1": "{}"}}, [])
    assert recording.collector_enabled == [False]
    assert gc.isenabled()
    assert folded.views["recording"].docs == {"case-1": None}
    assert folded.through == 0
