"""Sealing looks each batch's earlier versions up together: the chain is the same whatever
the batch size, on every event store."""

from __future__ import annotations

import pytest

from ks_engine.audit import sealer as sealing
from ks_engine.audit.chain import Link
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_the_chain_does_not_depend_on_the_sealing_batch(
    store_settings: Settings, clock: FixedClock, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = bootstrap(store_settings, clock=clock, configure_logs=False)
    try:
        play(engine.referrals, clock, seed=21, steps=80)
        store = engine.audit.chain
        monkeypatch.setattr(engine.audit.sealer, "clock", lambda: "2026-11-02T09:30:00+00:00")

        def seal_anew(size: int) -> list[Link]:
            with engine.audit.db.transaction(write=True) as tx:
                tx.execute("DELETE FROM audit_chain")
            monkeypatch.setattr(sealing, "BATCH", size)
            engine.audit.sealer.seal_pending()  # sealed at the same time each time
            return store.links(1, 100_000)

        whole = seal_anew(100_000)
        assert any(link.version > 1 for link in whole)
        # Each link looked up one by one and all together agree
        pairs = [(link.aggregate, link.version) for link in whole]
        together = store.links_of([*pairs, ("no-such-aggregate", 1)])
        assert together == {pair: store.link_of(*pair) for pair in pairs}
        # Sealed again in batches of ``batch``: the very same chain
        assert seal_anew(batch) == whole
    finally:
        engine.close()
