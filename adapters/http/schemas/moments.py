"""Dates and moments in query parameters: ISO 8601 only.

pydantic alone also reads a number as a Unix time (``until=0`` became 1 January 1970), which
no caller means; a query parameter that is not ISO 8601 is refused, naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})"
)


def _iso_only(pattern: re.Pattern[str], example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, date):  # date or datetime, given by code rather than a query
            return value
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"use ISO 8601, e.g. {example}")
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_iso_only(ISO_DATE, "2026-11-02"))]
IsoMoment = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_only(ISO_MOMENT, "2026-11-02T09:30:00+01:00 (send + as %2B)")),
]
