"""Statistical disclosure control for the tables that leave the Knooppunt.

Promise: in a protected table no count of 1 to ``threshold - 1`` families can be worked out
to within fewer than ``protection`` + 1 possible values, by anyone who reads every published
cell and total, knows these rules, and solves the linear equations they imply exactly.

- Primary suppression: a cell of 1 to ``threshold - 1`` is hidden.
- Small totals (1 to ``threshold - 1``) are rounded up to a multiple of ``rounding_base``
  (with base 5: 1-5 is published as 5, 6-9 as 10) and marked as rounded; zero and totals of
  ``threshold`` or more are exact.
- Complementary suppression: more cells (or totals) are hidden until, for every hidden cell
  and rounded total of 1 to ``threshold - 1``, the interval of values that fit every
  published figure spans at least ``protection``. It is checked by solving for them exactly
  (``projections.intervals``), not only by counting hidden cells per row and column.
- Zeros are published: a hidden figure is therefore known to be at least 1, and the solver
  is told so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from projections.intervals import Equation, Unknowns

Status = Literal["exact", "rounded", "suppressed"]
Key = tuple[
    str, int, int
]  # ("cell", row, column), ("row", row, 0), ("column", 0, column), ("total", 0, 0)


@dataclass(frozen=True)
class Rules:
    """The disclosure rules (documented in docs/monitoring.md)."""

    threshold: int = 10
    rounding_base: int = 5
    protection: int = 3

    def rounded(self, n: int) -> int:
        """A small total as published: rounded up to the rounding base."""
        return self.rounding_base * math.ceil(n / self.rounding_base)

    def rounding_interval(self, published: int) -> tuple[int, int]:
        """The true values a rounded total may stand for."""
        return max(1, published - self.rounding_base + 1), min(published, self.threshold - 1)


@dataclass(frozen=True)
class Figure:
    """One published figure: its value (None when suppressed) and how it was published."""

    value: int | None
    status: Status


@dataclass
class ProtectedTable:
    """A table of counts with row, column and grand totals, ready to publish."""

    rows: list[str]
    columns: list[str]
    cells: list[list[Figure]]
    row_totals: list[Figure]
    column_totals: list[Figure]
    total: Figure


@dataclass
class _Work:
    true: dict[Key, int]
    rules: Rules
    status: dict[Key, Status] = field(default_factory=dict)
    lines: list[tuple[list[Key], Key]] = field(default_factory=list)
    protected: set[Key] = field(default_factory=set)

    def sensitive(self, key: Key) -> bool:
        return 0 < self.true[key] < self.rules.threshold and self.status[key] != "exact"

    def unknown(self) -> list[Key]:
        return [k for k, s in self.status.items() if s != "exact"]

    def solver(self) -> tuple[Unknowns, dict[Key, int]]:
        """The published facts as equations over the unknown figures, and their indexes."""
        unknown = self.unknown()
        index = {k: i for i, k in enumerate(unknown)}
        lower: list[Fraction] = []
        upper: list[Fraction | None] = []
        for k in unknown:
            if self.status[k] == "rounded":
                lo, hi = self.rules.rounding_interval(self.rules.rounded(self.true[k]))
                lower.append(Fraction(lo))
                upper.append(Fraction(hi))
            else:
                lower.append(Fraction(1))
                upper.append(None)
        equations = []
        for parts, total in self.lines:
            coefficients: dict[int, int] = {}
            constant = 0
            for k, a in [(p, 1) for p in parts] + [(total, -1)]:
                if k in index:
                    coefficients[index[k]] = coefficients.get(index[k], 0) + a
                else:
                    constant -= a * self.true[k]
            if coefficients:
                equations.append(Equation(coefficients, Fraction(constant)))
        return Unknowns(equations, lower, upper), index

    def exposed(self) -> Key | None:
        """A sensitive figure whose interval is narrower than the protection, if any.

        Hiding more only takes facts away, so an interval never narrows again: a figure
        found protected once is not solved for again."""
        targets = [k for k in self.unknown() if self.sensitive(k) and k not in self.protected]
        if not targets:
            return None
        unknowns, index = self.solver()
        for k in targets:
            lo, hi = unknowns.interval(index[k])
            if hi is not None and hi - lo < self.rules.protection:
                return k
            self.protected.add(k)
        return None

    def pair_lonely(self) -> None:
        """Give every line with one hidden figure a second one (a fast first step)."""
        changed = True
        while changed:
            changed = False
            for parts, total in self.lines:
                members = [*parts, total]
                if sum(self.status[k] == "suppressed" for k in members) != 1:
                    continue
                if any(self.status[k] == "rounded" for k in members):
                    continue
                candidates = [
                    (0 if k[0] == "cell" else 1, self.true[k], k)
                    for k in members
                    if self.status[k] == "exact" and self.true[k] > 0
                ]
                if candidates:
                    self.status[min(candidates)[2]] = "suppressed"
                    changed = True

    def hide_beside(self, key: Key) -> bool:
        """Hide the smallest published non-zero figure sharing a line with ``key`` or, when
        there is none, with any hidden figure (whatever pins ``key`` down lies there)."""
        for near in ([key], self.unknown()):
            candidates: list[tuple[int, int, Key]] = []
            for parts, total in self.lines:
                members = [*parts, total]
                if not any(k in members for k in near):
                    continue
                for k in members:
                    if self.status[k] == "exact" and self.true[k] > 0:
                        candidates.append((0 if k[0] == "cell" else 1, self.true[k], k))
            if candidates:
                self.status[min(candidates)[2]] = "suppressed"
                return True
        return False


def protect(
    rows: Sequence[str], columns: Sequence[str], counts: Sequence[Sequence[int]], rules: Rules
) -> ProtectedTable:
    """The table with the rules applied (see the module docstring)."""
    r, c = len(rows), len(columns)
    true: dict[Key, int] = {}
    for i in range(r):
        for j in range(c):
            true[("cell", i, j)] = int(counts[i][j])
        true[("row", i, 0)] = sum(int(x) for x in counts[i])
    for j in range(c):
        true[("column", 0, j)] = sum(int(counts[i][j]) for i in range(r))
    true[("total", 0, 0)] = sum(true[("row", i, 0)] for i in range(r))
    work = _Work(true, rules)
    for k, n in true.items():
        small = 0 < n < rules.threshold
        work.status[k] = ("suppressed" if k[0] == "cell" else "rounded") if small else "exact"
    work.lines = [([("cell", i, j) for j in range(c)], ("row", i, 0)) for i in range(r)]
    work.lines += [([("cell", i, j) for i in range(r)], ("column", 0, j)) for j in range(c)]
    work.lines.append(([("row", i, 0) for i in range(r)], ("total", 0, 0)))
    work.lines.append(([("column", 0, j) for j in range(c)], ("total", 0, 0)))
    work.pair_lonely()
    while (exposed := work.exposed()) is not None:
        if not work.hide_beside(exposed):
            # Nothing left to hide beside it: a rounded total becomes suppressed instead.
            rounded = [k for k in work.unknown() if work.status[k] == "rounded"]
            if not rounded:
                raise AssertionError("a sensitive figure cannot be protected")  # pragma: no cover
            work.status[rounded[0]] = "suppressed"

    def figure(k: Key) -> Figure:
        status = work.status[k]
        if status == "suppressed":
            return Figure(None, status)
        n = true[k]
        return Figure(rules.rounded(n) if status == "rounded" else n, status)

    return ProtectedTable(
        rows=list(rows),
        columns=list(columns),
        cells=[[figure(("cell", i, j)) for j in range(c)] for i in range(r)],
        row_totals=[figure(("row", i, 0)) for i in range(r)],
        column_totals=[figure(("column", 0, j)) for j in range(c)],
        total=figure(("total", 0, 0)),
    )
