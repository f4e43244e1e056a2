"""/metrics with several API workers: the sum over the workers' counting files, whatever
moment of its life each file is at when scraped (adapters.http.metrics.WorkerCounts)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from adapters.http.metrics import ApiMetrics, WorkerCounts

SAMPLE = 'ks_http_requests_total{method="GET",route="/cases",status="200"}'
LABELS = ["method", "route", "status"]
HELP = "HTTP requests answered, by route and status."

# A worker's counting file as a scrape can find it: just created (empty), sized but its header
# not written yet (zeros), sized and empty, or holding counts.
CREATED, ZEROS, SIZED = "created", "zeros", "sized"
file_states = st.one_of(
    st.sampled_from([CREATED, ZEROS, SIZED]), st.integers(min_value=0, max_value=500)
)


def _worker_file(directory: Path, pid: int, state: str | int) -> None:
    path = directory / f"counter_{pid}.db"
    if state == CREATED:
        path.touch()
        return
    if state == ZEROS:
        path.write_bytes(bytes(1 << 16))  # the size a new file is given, before its header
        return
    counts = MmapedDict(str(path))  # the file a worker counts into (prometheus_client's own)
    if state != SIZED:
        key = mmap_key(
            "ks_http_requests", "ks_http_requests_total", LABELS, ["GET", "/cases", "200"], HELP
        )
        counts.write_value(key, float(state), 0.0)
    counts.close()


def _counted(exposition: str) -> float | None:
    for line in exposition.splitlines():
        if line.startswith(SAMPLE + " "):
            return float(line.split()[-1])
    return None


@settings(max_examples=60, deadline=None)
@given(states=st.lists(file_states, min_size=1, max_size=6))
def test_a_scrape_sums_every_worker_that_counted_and_passes_over_files_not_yet_sized(
    states: list[str | int],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        for pid, state in enumerate(states, start=100):
            _worker_file(Path(directory), pid, state)
        merged = {
            s.name: s.value
            for metric in WorkerCounts(directory).collect()
            for s in metric.samples
            if s.labels.get("route") == "/cases"
        }
    counted = [s for s in states if isinstance(s, int)]
    if counted:
        assert merged == {"ks_http_requests_total": float(sum(counted))}
    else:
        assert merged == {}


def test_an_empty_file_left_by_a_killed_worker_does_not_fail_the_scrape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _worker_file(tmp_path, 101, 25)
    _worker_file(tmp_path, 102, 15)
    _worker_file(tmp_path, 103, CREATED)  # killed between creating its file and sizing it
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    exposition = ApiMetrics().render().decode()
    assert _counted(exposition) == 40.0
    assert "ks_projection_lag_events" in exposition
