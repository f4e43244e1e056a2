"""The result of the last ``ks audit verify``, kept under the data directory for the dashboard.

The CLI writes it after every verification (intact or broken, with its date); the auditor's
page reads it, so an auditor sees when the audit trail was last checked and what was found.
The file holds counts, positions and the first finding's message: no case data.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ks_engine import private_file
from ks_engine.audit.findings import Report

FILE_NAME = "audit-verify.json"


class VerifyRecord(BaseModel):
    """What the last verification found, and when it ran."""

    checked_at: datetime
    intact: bool
    verified: int
    last_position: int
    checkpoints: int
    findings: int
    first_finding: str | None = None
    compared: bool  # with a checkpoint kept outside the database


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def save(path: Path, report: Report, at: datetime) -> VerifyRecord:
    """Write the record of ``report`` atomically (a reader never sees half a file)."""
    record = VerifyRecord(
        checked_at=at,
        intact=report.intact,
        verified=report.verified,
        last_position=report.last_position,
        checkpoints=report.checkpoints,
        findings=len(report.problems),
        first_finding=report.problems[0].message if report.problems else None,
        compared=report.compared,
    )
    private_file.replace(path, record.model_dump_json(indent=2))  # each under a name of its own
    return record


def load(path: Path) -> VerifyRecord | None:
    """The last record, or None when verify never ran here (or the file is unreadable)."""
    try:
        return VerifyRecord.model_validate_json(path.read_text("utf-8"))
    except (OSError, ValidationError):
        return None
