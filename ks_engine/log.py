"""structlog, configured once by the composition root, with redaction of personal data."""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog

from domain.errors import InvalidValueError
from domain.values import check_bsn

REDACTED = "[redacted]"
_PERSONAL_TOKENS = frozenset({"bsn", "birth", "note", "personal", "person", "surname"})
_NAME_KEYS = frozenset({"name", "full_name", "given_name", "family_name", "first_name"})
# Nine digits, possibly grouped by spaces, dots or dashes as people write a BSN (111 222 333);
# not inside a run of hexadecimal characters, so that case ids (UUIDs) stay readable.
_NINE_DIGITS = re.compile(
    r"(?<![0-9a-fA-F])(?<!\d[ .\-])(?:\d[ .\-]?){8}\d(?![0-9a-fA-F])(?![ .\-]\d)"
)


def _is_personal_key(key: object) -> bool:
    """Keys that name personal data, however they are spelled (``BSN``, ``person_name``)."""
    return _names_personal_data(str(key))


@functools.lru_cache(maxsize=4096)
def _names_personal_data(key: str) -> bool:
    # Every line's keys are asked about (about a tenth of a log line's cost); they are few.
    lowered = key.lower()
    tokens = set(re.split(r"[_\-.\s]+", lowered))
    return lowered in _NAME_KEYS or bool(tokens & _PERSONAL_TOKENS)


def _is_bsn(text: str) -> bool:
    try:
        check_bsn(text)
    except InvalidValueError:
        return False
    return True


def redact_text(text: str) -> str:
    """Replace every nine-digit number (also grouped: 111 222 333) that passes the elfproef."""

    def replace(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group())
        return REDACTED if _is_bsn(digits) else m.group()

    return _NINE_DIGITS.sub(replace, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**7 <= value < 10**9:
        # A BSN logged as a number (a leading zero lost): small counters are never BSNs.
        return REDACTED if _is_bsn(f"{value:09d}") else value
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_personal_key(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_personal_data(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Processor: no BSN, name, birth date or note ever reaches a log line."""
    return {
        k: REDACTED if _is_personal_key(k) and k != "event" else _redact(v)
        for k, v in event_dict.items()
    }


def configure_logging(level: str = "info", fmt: str = "auto", file: Path | None = None) -> None:
    """Configure structlog once: context first, timestamps, redaction, JSON or console.

    With ``file`` the lines go there as JSON (appended), and stderr stays free for people.
    """
    as_json = fmt == "json" or file is not None or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_CurrentStderrLogger if file is None else _FileLoggerFactory(file),
        cache_logger_on_first_use=False,
    )


class _CurrentStderrLogger:
    """Writes each line to the ``sys.stderr`` of the moment, not the one seen at configuration:
    a stream swapped in and closed later (a test runner's capture) never breaks logging."""

    def __init__(self, *_: Any) -> None:
        pass

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


class _FileLoggerFactory:
    """One appending, line-buffered file shared by every logger; lines never interleave."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def __call__(self, *_: Any) -> _FileLoggerFactory:
        return self

    def msg(self, message: str) -> None:
        with self._lock:
            self._file.write(message + "\n")

    log = debug = info = warn = warning = error = critical = exception = fatal = msg
