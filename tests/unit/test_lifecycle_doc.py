"""docs/lifecycle.md is generated from the specification table and kept current."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from domain.lifecycle import TRANSITIONS, State, mermaid
from entrypoints.cli import app
from entrypoints.cli.docs import generated_documents

ROOT = Path(__file__).resolve().parents[2]


def test_the_lifecycle_document_is_current() -> None:
    for rel, content in generated_documents().items():
        assert (ROOT / rel).read_text() == content, f"{rel} is stale: run `ks docs write`"


def test_ks_docs_check_passes_on_the_project() -> None:
    result = CliRunner().invoke(app, ["docs", "check", "--root", str(ROOT)])

    assert result.exit_code == 0, result.output


def test_ks_docs_check_fails_on_a_stale_document_and_write_repairs_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "lifecycle.md").write_text("# an old diagram\n")
    runner = CliRunner()

    stale = runner.invoke(app, ["docs", "check", "--root", str(tmp_path)])
    written = runner.invoke(app, ["docs", "write", "--root", str(tmp_path)])
    fresh = runner.invoke(app, ["docs", "check", "--root", str(tmp_path)])

    assert stale.exit_code == 1
    assert "docs/lifecycle.md is out of date" in stale.output
    assert written.exit_code == 0
    assert (fresh.exit_code, (tmp_path / "docs" / "lifecycle.md").read_text()) == (
        0,
        generated_documents()["docs/lifecycle.md"],
    )


def test_the_diagram_shows_every_transition_of_the_table() -> None:
    diagram = mermaid()

    for action, sources, dest in TRANSITIONS:
        for src in sources:
            target = src.value if dest == "=" else dest
            assert f"    {src.value} --> {target}: {action.value}\n" in diagram
    assert diagram.startswith(f"stateDiagram-v2\n    [*] --> {State.SIGNALLED.value}\n")
    assert diagram.endswith(f"    {State.CLOSED.value} --> [*]\n")
