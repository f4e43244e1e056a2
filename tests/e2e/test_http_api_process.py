"""`ks principals add` and `ks api` as an operator runs them: token shown once, loopback API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from ks_engine.signal_contract import example_signal

KS = str(Path(sys.executable).parent / "ks")
MIDWIFE = "https://verloskunde-parkstad.nl"


def test_a_token_from_ks_principals_add_opens_the_api_served_by_ks_api(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, KS_DATA_DIR=str(tmp_path), KS_API_PORT=str(port), KS_LOG_FORMAT="json")
    env.pop("KS_NATS_URL", None)
    added = subprocess.run(
        [
            KS,
            "principals",
            "add",
            "--role",
            "coordinator",
            "--organisation",
            "gemeente-kerkrade",
            "--municipality",
            "GM0928",
            "--id",
            "coordinator-kerkrade",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = added.stdout.split("token (shown once, keep it safe): ")[1].strip()
    assert token not in (tmp_path / "principals.json").read_text()
    log = tmp_path / "ks-api.log"
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would block the server
        server = subprocess.Popen([KS, "api"], env=env, stdout=sink, stderr=sink)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        assert httpx.get(f"{base}/catalog").status_code == 401
        answer = httpx.get(f"{base}/catalog", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert answer.json()["services"]
        request_id = answer.headers["X-Request-ID"]
        no_nats = httpx.get(
            f"{base}/signals/00000000-0000-0000-0000-000000000000",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert no_nats.status_code == 403  # a coordinator does not read partners' receipts
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    printed = log.read_text()
    assert server.returncode == 0, printed
    assert request_id in printed  # the canonical log line of that request
    assert "KS_NATS_URL is not set" in printed


def test_ks_api_alone_on_a_fresh_nats_server_takes_signals_before_any_intake_ran(
    tmp_path: Path, nats_server: EmbeddedNatsServer
) -> None:
    port = free_port()
    env = dict(
        os.environ,
        KS_DATA_DIR=str(tmp_path),
        KS_API_PORT=str(port),
        KS_LOG_FORMAT="json",
        KS_NATS_URL=nats_server.url,
        # The API in its own process: the streams it declares are the subject here; the first
        # test serves `ks api` on its default worker processes.
        KS_API_WORKERS="1",
    )
    added = subprocess.run(
        [KS, "principals", "add", "--role", "partner", "--organisation", MIDWIFE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = added.stdout.split("token (shown once, keep it safe): ")[1].strip()
    log = tmp_path / "ks-api.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([KS, "api"], env=env, stdout=sink, stderr=sink)
    try:
        base = f"http://127.0.0.1:{port}"
        ready: httpx.Response | None = None
        for _ in range(300):
            try:
                ready = httpx.get(f"{base}/ready", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert ready is not None, log.read_text()
        assert ready.json()["checks"]["nats"] == "ok"
        doc = example_signal("111222333", source=MIDWIFE, event_id="api-alone-1")
        posted = httpx.post(
            f"{base}/signals", json=doc, headers={"Authorization": f"Bearer {token}"}
        )
        assert posted.status_code == 202, posted.text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0, log.read_text()
    assert "111222333" not in log.read_text()
