"""Every view row that is written again takes every new value: an upsert that leaves a column
out keeps the value of the row's first write (a case moved to another municipality stayed in
the old one in the case view until a rebuild)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "projections").glob("*.py")) + sorted(
    (ROOT / "adapters" / "persistence").glob("*.py")
)
UPSERT = re.compile(
    r"INSERT INTO \w+ \((?P<columns>[^)]*)\).*?ON CONFLICT \((?P<key>[^)]*)\)\s*DO UPDATE SET"
    r"(?P<sets>.*)",
    re.S | re.I,
)


def _sql_strings(path: Path) -> list[str]:
    """Every string literal in the module, adjacent literals joined as Python joins them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _upserts() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for sql in _sql_strings(path):
            if UPSERT.search(sql):
                found.append((f"{path.relative_to(ROOT)}", sql))
    return found


def test_the_views_have_upserts_to_check() -> None:
    assert len(_upserts()) >= 4


@pytest.mark.parametrize(("where", "sql"), _upserts())
def test_an_upsert_sets_every_column_it_inserts(where: str, sql: str) -> None:
    match = UPSERT.search(sql)
    assert match is not None
    columns = {c.strip() for c in match["columns"].split(",")}
    key = {c.strip() for c in match["key"].split(",")}
    assigned = set(re.findall(r"(\w+)\s*=", match["sets"]))
    missing = columns - key - assigned
    assert not missing, f"{where}: ON CONFLICT keeps the old {sorted(missing)}"
