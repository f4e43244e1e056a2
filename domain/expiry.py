"""Inactivity expiry (*verlopen*): a case with no activity for a set period lapses.

As a signal in the Verwijsindex lapses, an open case on which nothing happened for
``months`` (default 24) is closed with the result ``expired``; the work queue flags it
``warning_months`` (default 2) before.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache


@lru_cache(maxsize=4096)  # every work-queue page asks it twice per case, for a few hundred days
def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months (the 31st falls back to the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class ExpiryRule:
    """How long an open case may stay without activity, and when the queue warns."""

    months: int = 24
    warning_months: int = 2

    def expires_on(self, last_activity: date) -> date:
        """The day a case whose last activity was on ``last_activity`` expires."""
        return add_months(last_activity, self.months)

    def warns_from(self, last_activity: date) -> date:
        """The day from which the work queue flags the case as about to expire."""
        return add_months(last_activity, self.months - self.warning_months)

    def is_expiring(self, last_activity: date, today: date) -> bool:
        """Whether the case is flagged (it expires within ``warning_months``)."""
        return today >= self.warns_from(last_activity)

    def has_expired(self, last_activity: date, today: date) -> bool:
        """Whether the case is due to be closed as expired on ``today``."""
        return today >= self.expires_on(last_activity)
