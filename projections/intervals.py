"""What can be worked out about hidden figures: exact bounds by linear programming.

Given published linear facts (sums of table entries equal a published total) and bounds on
each unknown entry, ``feasible_interval`` answers the smallest and largest value an entry can
take. It is a two-phase simplex on exact fractions with Bland's rule, so it always ends and
never suffers rounding: an attacker with a perfect solver learns exactly this interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

F = Fraction


class InfeasibleError(Exception):
    """The published facts contradict each other (no table fits them)."""


@dataclass(frozen=True)
class Equation:
    """``sum(coefficient * unknown) == constant`` over unknowns by index."""

    coefficients: Mapping[int, int]
    constant: Fraction


def _pivot(t: list[list[F]], basis: list[int], row: int, col: int) -> None:
    """Pivot on (row, col); the last line of ``t`` is the objective and is not in ``basis``."""
    scale = t[row][col]
    pivot_line = [v / scale for v in t[row]]
    t[row] = pivot_line
    nonzero = [(j, v) for j, v in enumerate(pivot_line) if v != 0]
    for r, line in enumerate(t):
        if r != row and line[col] != 0:
            factor = line[col]
            for j, v in nonzero:
                line[j] -= factor * v
    basis[row] = col


def _run(t: list[list[F]], basis: list[int], cost: Sequence[F], entering: int) -> F | None:
    """Minimise ``cost``; columns from ``entering`` on may not enter. None: unbounded."""
    width = len(t[0])
    objective = [F(c) for c in cost] + [F(0)] * (width - len(cost))
    for i, b in enumerate(basis):
        if objective[b] != 0:
            factor = objective[b]
            objective = [o - factor * v for o, v in zip(objective, t[i], strict=True)]
    t.append(objective)  # reduced costs, and minus the objective's value in the last column
    try:
        while True:
            col = next((j for j in range(entering) if objective[j] < 0), None)
            if col is None:
                return -objective[-1]
            candidates = [
                (t[i][-1] / t[i][col], basis[i], i) for i in range(len(basis)) if t[i][col] > 0
            ]
            if not candidates:
                return None
            _, _, row = min(candidates)
            _pivot(t, basis, row, col)
            objective = t[-1]
    finally:
        t.pop()


class Polytope:
    """The points x >= 0 with rows.x == rhs, made ready once to optimise over many times."""

    def __init__(self, rows: Sequence[Sequence[F]], rhs: Sequence[F], width: int) -> None:
        m, self.width = len(rows), width
        t: list[list[F]] = []
        for i, (row, constant) in enumerate(zip(rows, rhs, strict=True)):
            sign = -1 if constant < 0 else 1
            artificial = [F(1) if k == i else F(0) for k in range(m)]
            t.append([sign * F(v) for v in row] + artificial + [sign * F(constant)])
        basis = list(range(width, width + m))
        if m and _run(t, basis, [F(0)] * width + [F(1)] * m, width + m) != 0:
            raise InfeasibleError("the published figures contradict each other")
        for i, column in enumerate(basis):  # drive artificials at zero out of the basis
            if column >= width:
                col = next((j for j in range(width) if t[i][j] != 0), None)
                if col is not None:
                    _pivot(t, basis, i, col)
        self._tableau, self._basis = t, basis

    def minimum(self, cost: Sequence[F]) -> F | None:
        """min cost.x over the polytope; None when unbounded below."""
        if not self._tableau:  # no equation: every x_j >= 0 is free
            return F(0) if all(c >= 0 for c in cost) else None
        t = [line[:] for line in self._tableau]
        extra = len(t[0]) - 1 - self.width
        return _run(t, self._basis[:], [*cost, *([F(0)] * extra)], self.width)


def minimise(cost: Sequence[F], rows: Sequence[Sequence[F]], rhs: Sequence[F]) -> F | None:
    """min cost.x subject to rows.x == rhs, x >= 0; None when unbounded below."""
    return Polytope(rows, rhs, len(cost)).minimum(cost)


class Unknowns:
    """Unknown figures with bounds, tied by published equations: what can be worked out."""

    def __init__(
        self,
        equations: Sequence[Equation],
        lower: Sequence[Fraction],
        upper: Sequence[Fraction | None],
    ) -> None:
        # x = lower + y with y >= 0; a finite upper limit becomes y + slack == upper - lower.
        count = len(lower)
        slacks = [k for k in range(count) if upper[k] is not None]
        width = count + len(slacks)
        rows: list[list[F]] = []
        rhs: list[F] = []
        for eq in equations:
            row = [F(0)] * width
            for k, a in eq.coefficients.items():
                row[k] = F(a)
            rows.append(row)
            rhs.append(
                eq.constant - sum((F(a) * lower[k] for k, a in eq.coefficients.items()), F(0))
            )
        for s, k in enumerate(slacks):
            row = [F(0)] * width
            row[k] = F(1)
            row[count + s] = F(1)
            rows.append(row)
            limit = upper[k]
            assert limit is not None
            rhs.append(limit - lower[k])
        self.lower, self.width = list(lower), width
        self.polytope = Polytope(rows, rhs, width)

    def interval(self, target: int) -> tuple[Fraction, Fraction | None]:
        """The least and greatest value of unknown ``target`` (None: no upper limit)."""
        cost = [F(0)] * self.width
        cost[target] = F(1)
        least = self.polytope.minimum(cost)
        assert least is not None  # y >= 0 bounds the minimum
        cost[target] = F(-1)
        most = self.polytope.minimum(cost)
        return self.lower[target] + least, None if most is None else self.lower[target] - most


def feasible_interval(
    count: int,
    equations: Sequence[Equation],
    lower: Sequence[Fraction],
    upper: Sequence[Fraction | None],
    target: int,
) -> tuple[Fraction, Fraction | None]:
    """The least and greatest value of unknown ``target`` (None: no upper limit)."""
    assert len(lower) == len(upper) == count
    return Unknowns(equations, lower, upper).interval(target)
