"""Working days in the Netherlands: Monday to Friday, Dutch public holidays skipped.

The holidays come from the ``holidays`` package's calendar of the Netherlands (a data library,
no I/O): never a hand-written list.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def load_calendar(today: date) -> None:
    """Read the calendar of ``today``'s year and the next now rather than at the first deadline:
    the package's first use imports every country's calendar (about 75 ms on one core), which a
    long-running process pays at its start instead of on the first event it handles."""
    for year in (today.year, today.year + 1):
        _public_holidays(year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Dutch public holiday (King's Day, Easter Monday, ...)."""
    return day.weekday() < 5 and day not in _public_holidays(day.year)


@lru_cache(maxsize=4096)  # the work queue asks it for every event of a case; few days recur
def add_working_days(start: date, days: int) -> date:
    """``days`` working days after ``start``: weekends and Dutch public holidays skipped."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
