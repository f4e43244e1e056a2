"""Disclosure control: no suppressed count can be worked out from what is published.

The attacker here reads only the published table (cells, row, column and grand totals, which
figures are rounded or suppressed) and knows the rules: zeros are shown, so a hidden figure is
at least 1; a rounded total stands for the values that round to it. They solve the equations
exactly; every hidden count below the threshold must keep an interval of at least the
protection margin.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.disclosure import Figure, ProtectedTable, Rules, protect
from projections.intervals import Equation, Unknowns, feasible_interval

RULES = Rules(threshold=10, rounding_base=5, protection=3)
VALUES = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 15, 25, 60])


def attacker_intervals(
    table: ProtectedTable, rules: Rules
) -> dict[tuple[str, int, int], tuple[Fraction, Fraction | None]]:
    """Every hidden or rounded figure's feasible interval, from the published table alone."""
    r, c = len(table.rows), len(table.columns)
    figures: dict[tuple[str, int, int], Figure] = {}
    for i in range(r):
        for j in range(c):
            figures[("cell", i, j)] = table.cells[i][j]
        figures[("row", i, 0)] = table.row_totals[i]
    for j in range(c):
        figures[("column", 0, j)] = table.column_totals[j]
    figures[("total", 0, 0)] = table.total
    unknown = [k for k, f in figures.items() if f.status != "exact"]
    index = {k: n for n, k in enumerate(unknown)}
    lower, upper = [], []
    for k in unknown:
        f = figures[k]
        if f.status == "rounded":
            assert f.value is not None
            lo, hi = rules.rounding_interval(f.value)
            lower.append(Fraction(lo))
            upper.append(Fraction(hi))
        else:
            lower.append(Fraction(1))
            upper.append(None)
    lines = [([("cell", i, j) for j in range(c)], ("row", i, 0)) for i in range(r)]
    lines += [([("cell", i, j) for i in range(r)], ("column", 0, j)) for j in range(c)]
    lines += [([("row", i, 0) for i in range(r)], ("total", 0, 0))]
    lines += [([("column", 0, j) for j in range(c)], ("total", 0, 0))]
    equations = []
    for parts, total in lines:
        coefficients: dict[int, int] = {}
        constant = 0
        for k, a in [(p, 1) for p in parts] + [(total, -1)]:
            if k in index:
                coefficients[index[k]] = coefficients.get(index[k], 0) + a
            else:
                value = figures[k].value
                assert value is not None
                constant -= a * value
        if coefficients:
            equations.append(Equation(coefficients, Fraction(constant)))
    unknowns = Unknowns(equations, lower, upper)
    return {k: unknowns.interval(index[k]) for k in unknown}


def true_figures(counts: list[list[int]]) -> dict[tuple[str, int, int], int]:
    r, c = len(counts), len(counts[0])
    true = {("cell", i, j): counts[i][j] for i in range(r) for j in range(c)}
    true |= {("row", i, 0): sum(counts[i]) for i in range(r)}
    true |= {("column", 0, j): sum(counts[i][j] for i in range(r)) for j in range(c)}
    true[("total", 0, 0)] = sum(map(sum, counts))
    return true


tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 5).flatmap(
        lambda c: st.lists(st.lists(VALUES, min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=100, deadline=None)
@given(tables)
def test_no_small_count_can_be_solved_for_from_a_published_table(counts: list[list[int]]) -> None:
    table = protect(
        [f"GM{i:04d}" for i in range(len(counts))],
        [f"c{j}" for j in range(len(counts[0]))],
        counts,
        RULES,
    )
    true = true_figures(counts)
    intervals = attacker_intervals(table, RULES)
    for key, (lo, hi) in intervals.items():
        n = true[key]
        assert lo <= n, key  # the truth fits what is published: the solver is not fooled
        assert hi is None or n <= hi, key
        if 0 < n < RULES.threshold:
            assert hi is None or hi - lo >= RULES.protection, (key, n, lo, hi)
    published = {k: f for k, f in zip(true, _figures(table), strict=True)}
    for key, f in published.items():
        n = true[key]
        if f.status == "exact":
            assert f.value == n
            assert n == 0 or n >= RULES.threshold, key  # no small count is shown as it is
        elif f.status == "rounded":
            assert key[0] != "cell"
            assert f.value == RULES.rounded(n)
        else:
            assert f.value is None
            assert n > 0  # zeros are never hidden: the attacker's lower bound of 1 is right


def _figures(table: ProtectedTable) -> list[Figure]:
    r, c = len(table.rows), len(table.columns)
    cells = [table.cells[i][j] for i in range(r) for j in range(c)]
    return [*cells, *table.row_totals, *table.column_totals, table.total]


def test_a_lone_small_cell_gets_a_partner_in_its_row_and_column() -> None:
    table = protect(["a", "b"], ["x", "y"], [[3, 20], [30, 40]], RULES)
    hidden = {(i, j) for i in range(2) for j in range(2) if table.cells[i][j].status != "exact"}
    assert hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}  # one small cell hides its whole cycle
    assert table.row_totals[0].value == 23
    assert table.total.value == 93


def test_small_totals_are_rounded_up_to_the_base_and_marked() -> None:
    table = protect(["a"], ["x", "y"], [[2, 5]], RULES)
    assert table.total == Figure(10, "rounded")  # 7 -> 10
    assert table.row_totals == [Figure(10, "rounded")]
    assert table.column_totals == [Figure(5, "rounded"), Figure(5, "rounded")]  # 2 and 5
    assert RULES.rounded(1) == RULES.rounded(5) == 5
    assert RULES.rounded(6) == RULES.rounded(9) == 10


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=2, max_size=3),
    st.lists(st.integers(0, 6), min_size=2, max_size=3),
)
def test_the_solver_finds_the_same_bounds_as_trying_every_table(
    row_sums: list[int], column_sums: list[int]
) -> None:
    # Unknown cells of a small table with known margins, each cell in 0..12: brute force
    # every integer table and compare the extremes with the solver's.
    total = sum(row_sums)
    column_sums = [*column_sums[:-1], total - sum(column_sums[:-1])]
    if column_sums[-1] < 0:
        return
    r, c = len(row_sums), len(column_sums)
    fits = []
    # The (r-1) x (c-1) top-left cells decide the rest; keep the tables with no negative cell.
    for free in itertools.product(range(max(row_sums) + 1), repeat=(r - 1) * (c - 1)):
        cells = [[0] * c for _ in range(r)]
        for i in range(r - 1):
            for j in range(c - 1):
                cells[i][j] = free[i * (c - 1) + j]
            cells[i][c - 1] = row_sums[i] - sum(cells[i][: c - 1])
        for j in range(c):
            cells[r - 1][j] = column_sums[j] - sum(cells[i][j] for i in range(r - 1))
        if min(min(row) for row in cells) >= 0 and sum(cells[r - 1]) == row_sums[r - 1]:
            fits.append([x for row in cells for x in row])
    if not fits:
        return
    equations = [
        Equation({i * c + j: 1 for j in range(c)}, Fraction(row_sums[i])) for i in range(r)
    ] + [Equation({i * c + j: 1 for i in range(r)}, Fraction(column_sums[j])) for j in range(c)]
    for target in range(r * c):
        lo, hi = feasible_interval(
            r * c, equations, [Fraction(0)] * (r * c), [None] * (r * c), target
        )
        assert (lo, hi) == (min(f[target] for f in fits), max(f[target] for f in fits))
