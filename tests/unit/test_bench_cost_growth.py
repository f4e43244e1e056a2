"""The benchmark's cost-growth figure: cost per event at the largest store over the smallest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.run import FLAT, _flat_target, _growth_lines, cost_growth


def _row(size: float, rate: float, load_ms: float) -> dict[str, float]:
    return {
        "stored_events": size,
        "append_signals_per_s": rate,
        "case_load_ms": load_ms,
        "verify_events_per_s": rate,
        "relay_events_per_s": rate,
        "rebuild_events_per_s": rate,
    }


def test_a_rate_that_halves_is_a_cost_that_doubles_and_a_slower_load_a_dearer_one() -> None:
    rows = [_row(1_000_000, 500, 0.3), _row(10_000, 1_000, 0.2)]  # in any order
    ratios = cost_growth(rows)
    assert ratios["verify"] == ratios["relay"] == ratios["append"] == 2.0
    assert abs(ratios["case load"] - 1.5) < 1e-9
    what, measured, wanted, met = _flat_target(rows)
    assert "10,000 to 1,000,000" in what
    assert measured == "append 2.00x"
    assert wanted == "<= 1.2x"
    assert not met


@given(
    rate=st.floats(1, 1e6),
    factor=st.floats(0.1, 10),
    load=st.floats(0.01, 100),
)
def test_the_target_is_met_exactly_when_no_measure_costs_more_than_a_fifth_more(
    rate: float, factor: float, load: float
) -> None:
    rows = [_row(10_000, rate, load), _row(100_000, rate, load * factor)]
    ratios = cost_growth(rows)
    assert abs(ratios["case load"] - factor) < 1e-9 * factor
    assert ratios["verify"] == ratios["rebuild"] == 1.0
    met = _flat_target(rows)[3]
    if factor <= FLAT - 0.001:
        assert met
    elif factor >= FLAT + 0.001:
        assert not met


def test_the_figures_timed_in_turn_decide_and_both_are_shown() -> None:
    small, large = _row(10_000, 1_000, 0.2), _row(1_000_000, 1_000, 0.3)  # 1.5x when reached
    small |= {"append_signals_per_s_in_turn": 1_000, "case_load_ms_in_turn": 0.2}
    large |= {"append_signals_per_s_in_turn": 800, "case_load_ms_in_turn": 0.22}
    ratios = cost_growth([small, large])
    assert abs(ratios["case load"] - 1.1) < 1e-9
    assert abs(ratios["append"] - 1.25) < 1e-9
    assert _flat_target([small, large])[1] == "append 1.25x"
    table = "\n".join(_growth_lines("SQLite", [small, large]))
    assert "| 1,000,000 | 800 (1,000) | 0.220 (0.300) |" in table
    assert "in turn" in table
