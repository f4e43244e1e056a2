"""The log redaction processor: no BSN, name, birth date or note reaches a log line."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from ks_engine.log import REDACTED, configure_logging, redact_personal_data, redact_text
from tests.referral_builders import BSN_A, BSN_B


def redact(**event: Any) -> dict[str, Any]:
    return dict(redact_personal_data(None, "info", event))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"signal about {BSN_A} received", f"signal about {REDACTED} received"),
        (f"bsn={BSN_A};", f"bsn={REDACTED};"),
        (f"x{BSN_A}y", f"x{REDACTED}y"),
        (f"{BSN_A},{BSN_B}", f"{REDACTED},{REDACTED}"),
        (BSN_A, REDACTED),
        # Nine digits that fail the elfproef, and longer digit runs, are not BSNs.
        ("order 123456789", "order 123456789"),
        (f"id 1{BSN_A}", f"id 1{BSN_A}"),
        ("case 3f2c0e1a", "case 3f2c0e1a"),
    ],
)
def test_bsns_in_text_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_personal_keys_are_redacted_wherever_they_are() -> None:
    event = redact(
        event=f"intake of {BSN_A}",
        bsn="anything",
        name="Jan Jansen",
        birth_date="2001-02-03",
        note="vrije tekst",
        case_id="3f2c",
        stream_seq=12,
        payload={
            "personal": {"name": "Jan"},
            "person": "x",
            "nested": [{"note": "n", "ref": BSN_B}, (BSN_A, "ok")],
            "municipality": "GM0928",
        },
    )

    assert event == {
        "event": f"intake of {REDACTED}",
        "bsn": REDACTED,
        "name": REDACTED,
        "birth_date": REDACTED,
        "note": REDACTED,
        "case_id": "3f2c",
        "stream_seq": 12,
        "payload": {
            "personal": REDACTED,
            "person": REDACTED,
            "nested": [{"note": REDACTED, "ref": REDACTED}, [REDACTED, "ok"]],
            "municipality": "GM0928",
        },
    }


@pytest.fixture
def reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("reset_structlog")
def test_a_configured_logger_writes_no_personal_data(capsys: pytest.CaptureFixture[str]) -> None:
    # Configured inside the test: the logger factory binds sys.stderr as captured now.
    configure_logging("info", "json")
    log = structlog.get_logger().bind(request_id="r-1")
    log.info("signal received", bsn=BSN_A, name="Jan Jansen", detail=f"for {BSN_B}")
    try:
        raise ValueError(f"cannot parse {BSN_A}")
    except ValueError:
        log.exception("intake failed")

    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["event"] for line in lines] == ["signal received", "intake failed"]
    assert lines[0]["request_id"] == "r-1"
    assert lines[0]["detail"] == f"for {REDACTED}"
    assert "ValueError: cannot parse [redacted]" in lines[1]["exception"]
    for secret in (BSN_A, BSN_B, "Jan Jansen"):
        assert secret not in err


@pytest.mark.parametrize(
    ("event", "secret"),
    [
        ({"event": "BSN 111 222 333"}, "111 222 333"),
        ({"event": "BSN 111.222.333"}, "111.222.333"),
        ({"ref": 111222333}, "111222333"),
        ({"BSN": "secret-value"}, "secret-value"),
        ({"person_name": "Jan Jansen"}, "Jan Jansen"),
    ],
)
def test_formatted_or_numeric_bsns_and_variant_keys_are_redacted(
    event: dict[str, Any], secret: str
) -> None:
    assert secret not in str(redact(**event))


def test_other_numbers_and_ordinary_keys_are_left_alone() -> None:
    line = redact(
        event="signal.accepted",
        stream_seq=123456789,
        stream_name="KS_SIGNALS",
        note_count=3,
        phone="0612345678",
        amount="1 234 567 890",
    )
    assert line["stream_seq"] == 123456789  # not a valid BSN: kept
    assert line["stream_name"] == "KS_SIGNALS"
    assert line["event"] == "signal.accepted"
    assert line["amount"] == "1 234 567 890"


def test_logging_writes_to_the_stderr_of_the_moment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Configured while a runner had swapped in a stream it closed afterwards
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    configure_logging(fmt="json")
    swapped.close()
    monkeypatch.undo()

    structlog.get_logger("ks.test").info("still.logging", case="c-1")

    assert '"event": "still.logging"' in capsys.readouterr().err


@pytest.mark.parametrize(
    "case_id",
    ["1f0e2c3a-8c39-4f07-abd6-94616953e7e2", "00000000-0000-4000-8000-123456789012"],
)
def test_case_ids_stay_readable_even_where_their_digits_look_like_a_bsn(case_id: str) -> None:
    assert redact_text(f"case {case_id} closed") == f"case {case_id} closed"


def test_a_log_file_takes_json_lines_redacted_and_stderr_stays_free(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "logs" / "ks.log"
    configure_logging("info", "console", log_file)
    try:
        structlog.get_logger().info("signal_accepted", detail=f"about {BSN_A}", case="c1")
    finally:
        configure_logging("info", "json")
    lines = [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]
    assert lines[-1]["event"] == "signal_accepted"
    assert lines[-1]["detail"] == f"about {REDACTED}"
    assert BSN_A not in log_file.read_text("utf-8")
    assert "signal_accepted" not in capsys.readouterr().err
