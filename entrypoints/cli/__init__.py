"""The `ks` command line: what operators, coordinators and auditors type.

Each sub-module defines the commands of one concern and registers them on ``app``.
"""

from __future__ import annotations

from entrypoints.cli.main import app

__all__ = ["app"]
