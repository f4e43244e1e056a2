"""What a well-formed signal must also be to be taken: well-formed is not yet right.

A partner's references hold no citizen service number (they end up in receipts, in the
events' actor and cause, in the views); the municipality is one this Knooppunt serves; the
dates can be true on the engine's today (its clock, so tests can set it).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.redaction import holds_bsn
from ks_engine.signal_rejection import Rejection, RejectionCode

DUE_DATE_MONTHS_AHEAD = 10  # a pregnancy is known for at most about nine months
REFERENCE_ATTRIBUTES = ("id", "source", "subject")


@dataclass(frozen=True)
class SignalRules:
    """The municipalities this Knooppunt serves, and the clock that says what today is."""

    municipalities: frozenset[str]
    clock: Callable[[], datetime]

    @classmethod
    def serving(cls, municipalities: Collection[str], clock: Callable[[], datetime]) -> SignalRules:
        return cls(frozenset(municipalities), clock)

    def today(self) -> date:
        return self.clock().date()


def check_references(attributes: Mapping[str, Any]) -> None:
    """Refuse an envelope whose ``id``, ``source`` or ``subject`` holds a BSN."""
    found = [name for name in REFERENCE_ATTRIBUTES if _holds_bsn(attributes.get(name))]
    if found:
        message = "holds a citizen service number (BSN); use your own reference instead"
        verb = "holds" if len(found) == 1 else "hold"
        raise Rejection(
            RejectionCode.BSN_AS_REFERENCE,
            f"the CloudEvent's {' and '.join(found)} {verb} a citizen service number (BSN); use "
            "your own references: a citizen's number is sent only in the person blocks of data "
            "(data.person, data.household)",
            errors=tuple((name, message) for name in found),
        )


_DIGIT = re.compile(r"\d")
# A UUID written out inside a longer reference ("s-<uuid>", "<system>/<uuid>#2"): its groups of
# digits, read together, pass the elfproef about once in eleven, and are no citizen's number.
_UUID_TEXT = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)


def _holds_bsn(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return False
    if len(_DIGIT.findall(value)) < 9:  # most references: too few digits for any BSN
        return False
    try:
        UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return holds_bsn(_UUID_TEXT.sub("#", value))  # what is not a UUID is still searched
    return False  # a UUID's digits are no citizen's number


def check_served(municipality: str, rules: SignalRules) -> None:
    """Refuse a signal for a municipality this Knooppunt does not serve."""
    if municipality not in rules.municipalities:
        served = ", ".join(sorted(rules.municipalities)) or "none"
        message = f"municipality '{municipality}' is not served by this Knooppunt"
        raise Rejection(
            RejectionCode.MUNICIPALITY_NOT_SERVED,
            f"data.municipality: {message} (it serves {served}); send the signal to the "
            "Knooppunt of that municipality",
            errors=(("data.municipality", message),),
        )


def check_dates(
    *,
    not_future: Sequence[tuple[str, date, str]],
    due: Sequence[tuple[str, date]],
    rules: SignalRules,
) -> None:
    """Refuse dates that cannot be right, naming every wrong one: ``not_future`` are (path,
    date, what it is) that cannot lie ahead (births, a consent given); ``due`` are (path, due
    date) of expected children, at most ten months ahead."""
    today = rules.today()
    latest = _months_after(today, DUE_DATE_MONTHS_AHEAD)
    errors = [(path, f"{what} lies in the future") for path, day, what in not_future if day > today]
    errors += [
        (
            path,
            f"the expected due date is more than {DUE_DATE_MONTHS_AHEAD} months ahead "
            f"(latest {latest.isoformat()})",
        )
        for path, day in due
        if day > latest
    ]
    if errors:
        raise Rejection(
            RejectionCode.IMPLAUSIBLE_DATE,
            "; ".join(f"{path}: {message}" for path, message in errors),
            errors=tuple(errors),
        )


def _months_after(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
