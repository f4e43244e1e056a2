"""The processes of `ks run`, one module each.

`ks run` starts every module below as a process of its own (``python -m
entrypoints.processes.<name>``) and supervises them (``entrypoints.processes.children``);
`ks intake`, `ks relay`, `ks project` and `ks sealer` start one of them alone. Each module
says what its component is (``component``) and runs it alone (``main``).
"""

from __future__ import annotations

PROCESSES: tuple[str, ...] = ("intake", "relay", "projectors", "sealer", "expiry", "api")
"""Every module `ks run` starts as a process, in the order they are started."""


def ks_run_processes(intakes: int) -> dict[str, str]:
    """The processes `ks run` starts, by name, each with its module: ``intakes`` intake
    processes (``intake``, ``intake-2``, ...) on the intake's one consumer, which take turns
    at the store (``adapters.persistence.store_turns``), then one of every other module."""
    names = {"intake" if n == 1 else f"intake-{n}": "intake" for n in range(1, intakes + 1)}
    return names | {module: module for module in PROCESSES if module != "intake"}
