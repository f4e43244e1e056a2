"""The processes `ks run` starts: every module once, and as many intakes as configured."""

from __future__ import annotations

import pytest

from entrypoints.processes import PROCESSES, ks_run_processes
from ks_engine.settings import Settings


@pytest.mark.parametrize("intakes", [1, 2, 3, 8])
def test_ks_run_starts_the_configured_intakes_and_every_other_module_once(intakes: int) -> None:
    processes = ks_run_processes(intakes)

    assert list(processes.values()).count("intake") == intakes
    assert set(processes.values()) == set(PROCESSES)
    assert all(list(processes.values()).count(m) == 1 for m in PROCESSES if m != "intake")
    # Each process has a name of its own on the status board and in the log.
    assert len(processes) == len(PROCESSES) - 1 + intakes
    intake_names = [name for name, module in processes.items() if module == "intake"]
    assert intake_names == ["intake", *(f"intake-{n}" for n in range(2, intakes + 1))]
    # The intakes start first, the others in the order of PROCESSES.
    assert list(processes)[intakes:] == [m for m in PROCESSES if m != "intake"]


def test_two_intakes_by_default_and_the_count_is_bounded() -> None:
    assert Settings.model_fields["intake_processes"].default == 2
    with pytest.raises(ValueError, match="intake_processes"):
        Settings(intake_processes=0)
    with pytest.raises(ValueError, match="intake_processes"):
        Settings(intake_processes=9)
