"""`ks audit export` on a real SQLite store, checked by docs/verify_export.py as an auditor
runs it: a separate Python process that does not import ks-engine."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from entrypoints.cli import app as cli
from ks_engine.audit import chain
from ks_engine.audit.replay import case_ids
from ks_engine.audit.signing import public_key_pem
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import SECRET_MARKS, play

SCRIPT = Path(__file__).parents[2] / "docs" / "verify_export.py"
KERKRADE = "GM0928"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cases in three municipalities over several months, then more events after a checkpoint."""
    data = tmp_path_factory.mktemp("export") / "data"
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)
    play(engine.referrals, clock, seed=4, steps=60)
    engine.audit.sealer.checkpoint()
    play(engine.referrals, clock, seed=9, steps=40)
    engine.close()
    return data


def run_export(data: Path, out: Path, start: str, end: str) -> str:
    args = ["--municipality", KERKRADE, "--from", start, "--to", end, "--out", str(out)]
    result = CliRunner().invoke(cli, ["audit", "export", *args], env={"KS_DATA_DIR": str(data)})
    assert result.exit_code == 0, result.output
    return result.output


def public_key(data: Path, tmp_path: Path) -> Path:
    result = CliRunner().invoke(cli, ["audit", "public-key"], env={"KS_DATA_DIR": str(data)})
    assert result.exit_code == 0
    path = tmp_path / "engine.pem"
    path.write_text(result.output)
    return path


def auditor_verifies(export: Path, key: Path) -> subprocess.CompletedProcess[str]:
    """The script run as an auditor would: its own process, isolated from ks-engine's path."""
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(export), str(key)],
        capture_output=True,
        text=True,
        cwd=export.parent,
        check=False,
    )


def expected_events(data: Path, start: date, end: date) -> int:
    engine = bootstrap(Settings(data_dir=data), configure_logs=False)
    try:
        count = 0
        for case_id in case_ids(engine.referrals):
            events = list(engine.referrals.events.get(case_id))
            if events[0].municipality != KERKRADE:  # type: ignore[attr-defined]
                continue
            count += sum(
                start <= e.occurred_at.astimezone(AMSTERDAM).date() <= end  # type: ignore[attr-defined]
                for e in events
            )
        return count
    finally:
        engine.close()


def test_an_export_verifies_with_the_standalone_script(store: Path, tmp_path: Path) -> None:
    # Given an export of one municipality for one month in the middle of the history
    out = tmp_path / "export.jsonl"
    said = run_export(store, out, "2026-12-01", "2026-12-31")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    events = [x["event"] for x in lines if "event" in x]
    # Then it holds exactly that municipality's events of that month
    wanted = expected_events(store, date(2026, 12, 1), date(2026, 12, 31))
    assert len(events) == wanted > 0
    assert f"{wanted} events of {KERKRADE} exported" in said
    assert {e["municipality"] for e in events} == {KERKRADE}
    assert all("2026-11-30" < e["at"][:10] <= "2026-12-31" for e in events)
    # And the auditor's script, with the engine's public key, finds it intact
    verdict = auditor_verifies(out, public_key(store, tmp_path))
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith(f"intact: {wanted} events")


def test_an_export_holds_no_pseudonym_nor_personal_data(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    run_export(store, out, "2026-01-01", "2027-12-31")
    raw = out.read_text()
    for mark in SECRET_MARKS:
        assert mark not in raw
    engine = bootstrap(Settings(data_dir=store), configure_logs=False)
    try:
        app = engine.referrals
        pseudonyms = {
            p
            for c in case_ids(app)
            for p in (app.get_case(c).person_pseudonym, *app.member_pseudonyms(app.get_case(c)))
        }
    finally:
        engine.close()
    assert pseudonyms
    assert not [p for p in pseudonyms if p in raw]
    assert '"person_pseudonym"' not in raw


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        ("event_changed", "was altered"),
        ("hashes_recomputed", "the chain does not end at the signed head"),
        ("link_dropped", "not chained to the link before it"),
        ("other_key", "checkpoint (position"),
    ],
)
def test_a_changed_export_fails_the_standalone_script(
    store: Path, tmp_path: Path, tamper: str, finding: str
) -> None:
    out = tmp_path / "export.jsonl"
    run_export(store, out, "2026-11-01", "2027-12-31")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    with_event = [i for i, x in enumerate(lines) if "event" in x]
    key = public_key(store, tmp_path)
    if tamper == "event_changed":  # an outcome or a type rewritten
        lines[with_event[1]]["event"]["type"] = "ConsentGiven"
    elif tamper == "hashes_recomputed":  # changed, and every hash after it recomputed
        lines[with_event[1]]["event"]["type"] = "ConsentGiven"
        _recompute_from(lines, with_event[1])
    elif tamper == "link_dropped":
        del lines[with_event[1]]
    else:  # signed by another key than the engine's
        key.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    verdict = auditor_verifies(out, key)
    assert verdict.returncode == 1
    assert "BROKEN:" in verdict.stdout
    assert finding in verdict.stdout


def test_the_script_uses_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(SCRIPT.read_text())
    modules = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert modules <= {"__future__", "base64", "hashlib", "json", "sys", "cryptography"}


def _recompute_from(lines: list[dict[str, Any]], index: int) -> None:
    """Recompute the hashes of the links from ``index`` on, as a forger without the key would."""
    prev = lines[index - 1]["link_hash"] if lines[index - 1]["kind"] == "link" else None
    for line in lines[index:]:
        if line["kind"] != "link":
            continue
        if "event" in line:
            line["body"]["summary_hash"] = chain.sha256(chain.canonical(line["event"]))
            line["body_hash"] = chain.sha256(chain.canonical(line["body"]))
        line["prev"] = prev or line["prev"]
        line["link_hash"] = chain.link_hash(line["position"], line["prev"], line["body_hash"])
        prev = line["link_hash"]
