"""`ks check`, the workers' health check, against a real nats-server and a real event store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from adapters.nats.embedded import EmbeddedNatsServer


def _ks_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("ks")), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _environment(tmp_path: Path, nats_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "KS_NATS_URL": nats_url,
        "KS_STORE": "sqlite",
        "KS_DATA_DIR": str(tmp_path / "data"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_passes_when_jetstream_answers(
    nats_server: EmbeddedNatsServer, tmp_path: Path
) -> None:
    result = _ks_check(_environment(tmp_path, nats_server.url))
    assert result.returncode == 0, result.stderr
    assert "NATS and the event store answer" in result.stdout


def test_check_says_in_words_when_nats_cannot_be_reached(tmp_path: Path) -> None:
    result = _ks_check(_environment(tmp_path, f"nats://127.0.0.1:{_free_port()}"))
    assert result.returncode == 1
    assert "NATS cannot be reached" in result.stderr
