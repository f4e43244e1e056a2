"""The engine's notion of now: aware datetimes in Dutch local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def now() -> datetime:
    """The current moment, in Europe/Amsterdam (deadlines are Dutch calendar dates)."""
    return datetime.now(AMSTERDAM)
