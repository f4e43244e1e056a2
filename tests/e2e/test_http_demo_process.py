"""`ks run --demo` as a new user starts it, driven over real HTTP with the printed tokens."""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from adapters.nats.embedded import free_port
from tests.e2e.engine_process import output, start

TOKEN_LINE = "  token (shown once, keep it safe): "


def printed_tokens(log: str) -> dict[str, str]:
    """The demo principals' tokens as `ks run --demo` printed them (the last run's)."""
    tokens: dict[str, str] = {}
    lines = log.splitlines()
    for above, line in itertools.pairwise(lines):
        if line.startswith(TOKEN_LINE):
            tokens[above.split(":")[0]] = line.removeprefix(TOKEN_LINE).strip()
    return tokens


def wait_until_serving(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not become ready (exit code {proc.poll()})")


def open_cases(base: str, token: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The work queue once the projectors show at least ``count`` cases."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{base}/cases", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_a_coordinator_works_a_demo_case_over_http_with_a_printed_token(tmp_path: Path) -> None:
    nats_port, api_port = free_port(), free_port()
    env = {"KS_EMBEDDED_NATS_PORT": str(nats_port), "KS_API_PORT": str(api_port)}
    base = f"http://127.0.0.1:{api_port}"
    proc = start(["run", "--demo"], tmp_path, **env)
    try:
        wait_until_serving(base, proc)
        tokens = printed_tokens(output(tmp_path, "run"))
        kerkrade = tokens["demo-coordinator-kerkrade"]
        landgraaf = tokens["demo-coordinator-landgraaf"]
        # The demo's two open Kerkrade cases: family A (support matched), family C (signalled)
        cases = open_cases(base, kerkrade, 2)
        assert sorted(c["state"] for c in cases) == ["signalled", "support_matched"]
        assert {c["municipality"] for c in cases} == {"GM0928"}
        waiting = next(c for c in cases if c["state"] == "signalled")
        case_url = f"{base}/cases/{waiting['case_id']}"
        # The coordinator records the consent request on the version they saw
        done = httpx.post(
            f"{case_url}/consent-request",
            headers=bearer(kerkrade) | {"If-Match": f'"{waiting["version"]}"'},
        )
        assert done.status_code == 200, done.text
        assert done.json()["version"] == waiting["version"] + 1
        # ... and reads it back, asking the views to include that command
        view = httpx.get(
            case_url, params={"after_position": done.json()["position"]}, headers=bearer(kerkrade)
        )
        assert view.status_code == 200, view.text
        assert "X-Read-Models-Behind" not in view.headers
        assert (view.json()["state"], view.json()["consent"]["status"]) == (
            "consent_requested",
            "requested",
        )
        # Landgraaf's coordinator cannot tell the case exists
        assert httpx.get(case_url, headers=bearer(landgraaf)).status_code == 404
        refused = httpx.post(
            f"{case_url}/consent-request",
            headers=bearer(landgraaf) | {"If-Match": f'"{waiting["version"] + 1}"'},
        )
        assert refused.status_code == 404
    finally:
        code = stop(proc)
    log = output(tmp_path, "run")
    assert code == 0, log[-3000:]
    assert "Demo Ouder" not in log


def test_ks_run_demo_runs_again_on_its_data_directory_with_new_tokens(tmp_path: Path) -> None:
    # In one process (--one-process, one API worker): the demo is seeded by the same code
    # either way, and the first test runs `ks run --demo` as a new user does, in processes.
    env = {
        "KS_EMBEDDED_NATS_PORT": str(free_port()),
        "KS_API_PORT": str(free_port()),
        "KS_API_WORKERS": "1",
    }
    base = f"http://127.0.0.1:{env['KS_API_PORT']}"
    first = start(["run", "--one-process", "--demo"], tmp_path, **env)
    try:
        wait_until_serving(base, first)
    finally:
        assert stop(first) == 0, output(tmp_path, "run")[-3000:]
    old = printed_tokens(output(tmp_path, "run"))["demo-coordinator-kerkrade"]
    again = start(["run", "--one-process", "--demo"], tmp_path, **env)
    try:
        wait_until_serving(base, again)
        new = printed_tokens(output(tmp_path, "run"))["demo-coordinator-kerkrade"]
        assert new != old
        assert httpx.get(f"{base}/cases", headers=bearer(old)).status_code == 401
        # Both runs' open Kerkrade cases: two per run
        assert len(open_cases(base, new, 4)) == 4
    finally:
        code = stop(again)
    assert code == 0, output(tmp_path, "run")[-3000:]


def test_a_taken_api_port_stops_ks_run_with_a_message_that_names_the_setting(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"KS_EMBEDDED_NATS_PORT": str(free_port()), "KS_API_PORT": str(port)}
        proc = start(["run"], tmp_path, **env)
        try:
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                stop(proc)
    log = output(tmp_path, "run")
    assert code == 2, log[-3000:]
    assert f"the HTTP API cannot listen on 127.0.0.1:{port}" in log
    assert "set KS_API_PORT" in log
    assert "Traceback" not in log
