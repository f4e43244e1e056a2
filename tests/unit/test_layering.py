"""Layering: a pure domain, adapters without the composition root, a core without entry points,
and no import cycles."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "adapters", "ks_engine", "entrypoints")

# Besides the standard library and itself, the domain may use these (event-sourced aggregates,
# validated values, the lifecycle machine, Dutch public holidays): none of them does I/O.
DOMAIN_LIBRARIES = ("eventsourcing.domain", "pydantic", "transitions", "holidays")
# Standard-library modules that reach files, sockets, processes or databases.
IO_MODULES = (
    "asyncio",
    "http",
    "io",
    "logging",
    "os",
    "pathlib",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "tempfile",
    "threading",
    "urllib",
)
COMPOSITION_ROOT = ("ks_engine.bootstrap", "entrypoints")


def module_name(path: Path) -> str:
    """The dotted name of the module at ``path`` (a package is named by its folder)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every name ``module`` imports, also in functions and under TYPE_CHECKING (a.b: b of a)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``prefixes`` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def sources(package: str) -> dict[str, list[str]]:
    """Module name -> the names it imports, for every module of ``package``."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = module_name(path)
        found[name] = list(imported(path.read_text(), name, path.name == "__init__.py"))
    return found


def domain_violations(imports: dict[str, list[str]]) -> list[str]:
    """Imports of domain modules beyond the domain, its libraries and the I/O-free stdlib."""

    def allowed(name: str) -> bool:
        if within(name, ("domain", "__future__", *DOMAIN_LIBRARIES)):
            return True
        return name.split(".")[0] in sys.stdlib_module_names and not within(name, IO_MODULES)

    return [
        f"{module} imports {name}"
        for module, names in imports.items()
        for name in names
        if not allowed(name)
    ]


def forbidden(imports: dict[str, list[str]], prefixes: tuple[str, ...]) -> list[str]:
    """The imports of these modules that reach any of ``prefixes``."""
    return [
        f"{module} imports {name}"
        for module, names in imports.items()
        for name in names
        if within(name, prefixes)
    ]


def cycles(imports: dict[str, list[str]]) -> list[list[str]]:
    """Import cycles among these modules: each found once, as the path that closes it."""

    def resolved(name: str) -> str | None:  # a.b.c, a function of module a.b: a.b
        while name and name not in imports:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {r for n in names if (r := resolved(n)) and r != m} for m, names in imports.items()}
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for other in sorted(edges[module]):
            if other in path:
                found.append([*path[path.index(other) :], other])
            elif other not in done:
                visit(other, [*path, other])
        done.add(module)

    for module in sorted(edges):
        if module not in done:
            visit(module, [module])
    return found


def test_the_scan_reads_every_package_and_sees_real_imports() -> None:
    counts = {package: len(sources(package)) for package in PACKAGES}
    assert counts["domain"] >= 20, counts
    assert counts["adapters"] >= 50, counts
    assert counts["ks_engine"] >= 40, counts
    assert counts["entrypoints"] >= 10, counts
    # The entry points do wire the core: the scan finds their imports of the composition root.
    assert forbidden(sources("entrypoints"), COMPOSITION_ROOT)
    assert "domain.lifecycle.State" in {
        name for names in sources("domain").values() for name in names
    }


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("from ks_engine.bootstrap import bootstrap", "adapters.x", False, "ks_engine.bootstrap"),
        ("from ks_engine import bootstrap", "adapters.x", False, "ks_engine.bootstrap"),
        ("import entrypoints.cli.run", "adapters.x", False, "entrypoints.cli.run"),
        (
            "def f():\n    from ..bootstrap import Engine\n",
            "ks_engine.a.b",
            False,
            "ks_engine.bootstrap",
        ),
        ("from . import bootstrap", "ks_engine", True, "ks_engine.bootstrap"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import entrypoints\n",
            "projections.x",
            False,
            "entrypoints",
        ),
    ],
)
def test_the_scan_finds_an_import_however_it_is_written(
    source: str, module: str, is_package: bool, expected: str
) -> None:
    assert any(within(name, (expected,)) for name in imported(source, module, is_package))
    assert forbidden({module: list(imported(source, module, is_package))}, COMPOSITION_ROOT)


def test_the_cycle_check_finds_a_lazy_import_that_closes_a_cycle() -> None:
    modules = {
        "a.views": "def open_views():\n    from a.sqlite_views import open_sqlite\n",
        "a.sqlite_views": "from a.views import Row\n",
        "a.other": "from a import views\n",
        "a": "",
    }
    imports = {m: list(imported(src, m, m == "a")) for m, src in modules.items()}
    assert cycles(imports) == [["a.views", "a.sqlite_views", "a.views"]]
    del imports["a.sqlite_views"]
    assert cycles(imports) == []


def test_the_domain_check_refuses_io_and_outside_packages() -> None:
    for source in (
        "import sqlite3",
        "from pathlib import Path",
        "from ks_engine.settings import Settings",
        "from eventsourcing.persistence import Recording",
        "import nats",
        "def f():\n    import os\n",
    ):
        assert domain_violations({"domain.x": list(imported(source, "domain.x"))}), source
    allowed = "from datetime import date\nfrom eventsourcing.domain import event\nimport holidays\n"
    assert domain_violations({"domain.x": list(imported(allowed, "domain.x"))}) == []


def test_the_domain_imports_only_the_domain_its_libraries_and_io_free_stdlib() -> None:
    assert domain_violations(sources("domain")) == []


@pytest.mark.parametrize("package", ["domain", "projections", "adapters"])
def test_no_adapter_projection_or_domain_module_imports_the_composition_root(package: str) -> None:
    assert forbidden(sources(package), COMPOSITION_ROOT) == []


def test_the_core_package_never_imports_its_entry_points() -> None:
    assert forbidden(sources("ks_engine"), ("entrypoints",)) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Also not lazily inside a function nor under TYPE_CHECKING: pass a Protocol instead."""
    imports = {name: names for package in PACKAGES for name, names in sources(package).items()}
    assert len(imports) >= 200
    assert cycles(imports) == []
