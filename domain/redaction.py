"""No BSN outside the person block: finding citizen service numbers in free text.

A partner's note, a coordinator's justification or reason, a discussion's participants: any
text a person typed may hold a BSN, pasted on its own, grouped as people write it (123 456 782,
1234.56.782) or glued to letters and punctuation (``abc123456782x``, ``#123456782.``). Every
free-text field passes through ``redact_bsns`` before it is stored, sealed or not; ``FreeText``
is the type that does it on validation. A BSN is a run of nine digits that passes the
elfproef; longer digit runs (a phone number, an AGB code) are not BSNs.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

REDACTED = "[BSN]"  # never longer than what it replaces, so length limits still hold
# Digit runs with at most three separators between them, as a number is grouped when written
# (spaces of any width, dots, dashes, slashes, and the invisible characters a paste can leave).
_SEPARATOR = r"[\s.\-_/\u00a0\u200b-\u200f\u2060\ufeff]{1,3}"
_CLUSTER = re.compile(rf"\d+(?:{_SEPARATOR}\d+)*")
_RUN = re.compile(r"\d+")
_MIN_GROUP = 2  # a grouped BSN is written in groups of two or more digits
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)  # the elfproef (11-test)


def _ascii_digits(text: str) -> str:
    """``text``'s digits as ASCII: a BSN typed in another script is still a BSN."""
    return "".join(str(int(ch)) for ch in text)


def is_bsn(digits: str) -> bool:
    """Whether ``digits`` (decimal digits of any script) are nine passing the elfproef."""
    if len(digits) != 9:
        return False
    ascii_digits = _ascii_digits(digits)
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, ascii_digits, strict=True))
    return total % 11 == 0 and ascii_digits != "000000000"


def bsn_spans(text: str, *, grouped: bool = True) -> list[tuple[int, int]]:
    """Where BSNs are in ``text``: every nine-digit run passing the elfproef, and (when
    ``grouped``) every sequence of digit groups that together are one."""
    spans: list[tuple[int, int]] = []
    for cluster in _CLUSTER.finditer(text):
        runs = list(_RUN.finditer(cluster.group()))
        found = [(r.start(), r.end()) for r in runs if is_bsn(r.group())]
        if grouped and len(runs) > 1:
            found += _grouped(runs)
        spans += [(cluster.start() + a, cluster.start() + b) for a, b in found]
    return _merged(spans)


def _grouped(runs: list[re.Match[str]]) -> list[tuple[int, int]]:
    found = []
    for first in range(len(runs)):
        digits = ""
        for last in range(first, len(runs)):
            if len(runs[last].group()) < _MIN_GROUP:
                break
            digits += runs[last].group()
            if len(digits) >= 9:
                if last > first and is_bsn(digits):
                    found.append((runs[first].start(), runs[last].end()))
                break
    return found


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redact_bsns(text: str) -> str:
    """``text`` with every BSN in it replaced by ``[BSN]``."""
    spans = bsn_spans(text)
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], REDACTED]
        at = end
    out.append(text[at:])
    return "".join(out)


def holds_bsn(text: str) -> bool:
    """Whether ``text`` holds a nine-digit run passing the elfproef (not counting groups)."""
    return bool(bsn_spans(text, grouped=False))


FreeText = Annotated[str, AfterValidator(redact_bsns)]
