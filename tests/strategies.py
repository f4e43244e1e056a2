"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

from hypothesis import strategies as st

from domain.redaction import is_bsn

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def _with_check_digit(head: int) -> str:
    digits = f"{head:08d}"
    check = sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=True)) % 11
    return digits + str(check)


def bsns() -> st.SearchStrategy[str]:
    """Valid BSNs: eight digits and the check digit the elfproef needs."""
    return st.integers(1, 99_999_999).map(_with_check_digit).filter(is_bsn)


def valid_bsns(count: int, start: int = 10_000_000) -> list[str]:
    """``count`` distinct valid BSNs (test data, not people), the first from ``start`` on."""
    found: list[str] = []
    head = start
    while len(found) < count:
        candidate = _with_check_digit(head)
        if is_bsn(candidate):
            found.append(candidate)
        head += 1
    return found
