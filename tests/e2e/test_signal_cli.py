"""`ks signal` as a partner integrator uses it from a second terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.nats.embedded import free_port

KS = str(Path(sys.executable).with_name("ks"))


def test_send_without_a_reachable_nats_server_fails_at_once_naming_the_address(
    tmp_path: Path,
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    env = dict(os.environ, KS_DATA_DIR=str(tmp_path), KS_NATS_URL=url)
    example = subprocess.run(
        [KS, "signal", "example"], env=env, capture_output=True, text=True, check=True
    )
    signal_file = tmp_path / "signal.json"
    signal_file.write_text(example.stdout, "utf-8")

    sent = subprocess.run(
        [KS, "signal", "send", str(signal_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a hang (retrying for ever) fails here instead of blocking the suite
    )

    assert sent.returncode == 1
    lines = sent.stderr.strip().splitlines()
    assert len(lines) == 1, sent.stderr  # one line, no traceback
    assert url in lines[0]
    assert "KS_NATS_URL" in lines[0]


def test_commands_on_nats_stop_within_seconds_when_it_cannot_be_reached(
    tmp_path: Path,
) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    env = dict(os.environ, KS_DATA_DIR=str(tmp_path), KS_NATS_URL=url)
    status = subprocess.run(
        [KS, "projections", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 1
    assert url in status.stderr
    assert "Traceback" not in status.stderr
