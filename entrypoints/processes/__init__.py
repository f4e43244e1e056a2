"""The processes of `ks run`, one module each.

`ks run` starts every module below as a process of its own (``python -m
entrypoints.processes.<name>``) and supervises them (``entrypoints.processes.children``);
`ks intake`, `ks relay`, `ks project` and `ks sealer` start one of them alone. Each module
says what its component is (``component``) and runs it alone (``main``).
"""

from __future__ import annotations

PROCESSES: tuple[str, ...] = ("intake", "relay", "projectors", "sealer", "expiry", "api")
"""Every process of `ks run`, in the order they are started."""
