"""`ks demo` as a new user runs it: the scripted scenario on the embedded SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ks_engine.log import redact_text

KS = Path(sys.executable).with_name("ks")


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KS_")}
    env["KS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(KS), "demo"], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_ks_demo_prints_each_case_lifecycle(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "var")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"ks-engine demo on the sqlite store ({tmp_path / 'var'}/)" in out
    steps = [line.split()[3] for line in out.splitlines() if line.startswith("  case ")]
    assert steps == [
        "signalled",  # midwife signals
        "signalled",  # JGZ signals the same person: matched
        "signalled",  # GP signals another person
        "consent_requested",
        "consented",
        "discussed",
        "support_matched",
        "consent_declined",
        "escalated",
        "closed",
    ]
    assert "JGZ signals the same person (matched, signal added)" in out
    assert "the family's consent does not cover woonconsulent-regio (state: consented)" in out
    assert "best fitting offer: Schuldhulpverlening" in out
    assert (tmp_path / "var" / "events.sqlite").stat().st_size > 0
    # The demo's (random, valid) BSNs and names never appear.
    assert redact_text(out + result.stderr) == out + result.stderr
    assert "Demo Ouder" not in out + result.stderr


def test_ks_demo_runs_again_on_the_same_data_directory(tmp_path: Path) -> None:
    assert run_demo(tmp_path).returncode == 0
    again = run_demo(tmp_path)

    assert again.returncode == 0, again.stderr
    assert again.stdout.count("closed: reported to Veilig Thuis") == 1
