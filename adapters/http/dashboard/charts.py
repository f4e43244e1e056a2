"""Chart geometry for inline SVG drawn on the server: the Positieve Gezondheid spider chart and
horizontal bar charts. Pure functions; the templates turn the numbers into SVG elements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.values import Dimension

SPIDER_WIDTH, SPIDER_HEIGHT = 680, 330
_CX, _CY = SPIDER_WIDTH / 2, SPIDER_HEIGHT / 2
_RADIUS = 120
MAX_SCORE = 10


@dataclass(frozen=True)
class Spoke:
    """One dimension: its axis end, label position and the score's point."""

    label: str
    score: int
    axis_x: float
    axis_y: float
    label_x: float
    label_y: float
    anchor: str
    point_x: float
    point_y: float


@dataclass(frozen=True)
class Spider:
    """The spider chart of one discussion's six scores."""

    width: int
    height: int
    spokes: list[Spoke]
    rings: list[str]  # polygon points of the 2, 4, ... 10 rings
    shape: str  # polygon points of the scores
    cx: float
    cy: float

    @property
    def summary(self) -> str:
        """The chart in words, for screen readers."""
        return ", ".join(f"{s.label} {s.score}" for s in self.spokes)


def _at(index: int, fraction: float) -> tuple[float, float]:
    angle = -math.pi / 2 + index * 2 * math.pi / len(Dimension)
    return (
        round(_CX + fraction * _RADIUS * math.cos(angle), 1),
        round(_CY + fraction * _RADIUS * math.sin(angle), 1),
    )


def _points(fractions: Sequence[float]) -> str:
    return " ".join("{},{}".format(*_at(i, f)) for i, f in enumerate(fractions))


def spider(scores: Mapping[str, int]) -> Spider:
    """The chart of ``scores`` (0-10 per Positieve Gezondheid dimension)."""
    spokes: list[Spoke] = []
    for i, dim in enumerate(Dimension):
        score = int(scores.get(dim.value, 0))
        ax, ay = _at(i, 1.0)
        lx, ly = _at(i, 1.12)
        px, py = _at(i, score / MAX_SCORE)
        anchor = "middle" if abs(lx - _CX) < 5 else ("start" if lx > _CX else "end")
        spokes.append(Spoke(dim.label, score, ax, ay, lx, ly, anchor, px, py))
    rings = [_points([step / MAX_SCORE] * len(Dimension)) for step in range(2, 11, 2)]
    shape = _points([s.score / MAX_SCORE for s in spokes])
    return Spider(SPIDER_WIDTH, SPIDER_HEIGHT, spokes, rings, shape, _CX, _CY)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the figure shown and its length; None for a suppressed figure."""

    label: str
    value: float | None
    width: float
    y: int


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart."""

    bars: list[Bar]
    height: int
    label_width: int = 150
    bar_space: int = 160


BAR_HEIGHT = 22


CHAR_WIDTH = 7.2  # a generous average width of a 12px character: labels are never cut off


def label_width(labels: Sequence[str]) -> int:
    """Room for the longest label, whole, at the bars' font size."""
    return max(150, math.ceil(max((len(t) for t in labels), default=0) * CHAR_WIDTH) + 16)


def bars(items: Sequence[tuple[str, float | None]], bar_space: int = 160) -> Bars:
    """Bars for ``(label, value)`` pairs, scaled to the largest; suppressed values have none."""
    largest = max((v for _, v in items if v is not None), default=0.0) or 1.0
    drawn = [
        Bar(label, value, 0.0 if value is None else round(value / largest * bar_space, 1), i * 28)
        for i, (label, value) in enumerate(items)
    ]
    return Bars(
        drawn,
        height=max(1, len(drawn)) * 28,
        label_width=label_width([label for label, _ in items]),
        bar_space=bar_space,
    )
