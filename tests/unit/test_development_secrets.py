"""The development secrets of a data directory: made once, by one process, however many start
together; completed once when a secret is missing; never made anew over an unreadable file."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from ks_engine.settings import DEVELOPMENT_SECRETS, Settings, SettingsError, new_secrets

PROCESSES = 8


def _secrets_of(data_dir: Path) -> dict[str, str]:
    settings = Settings(store="memory", data_dir=data_dir)
    return {
        "pseudonym_key": settings.pseudonym_key_bytes().hex(),
        "cipher_key": settings.cipher_key_text(),
        "signing_key": settings.signing_key_text(),
        "nats_store_key": settings.nats_store_key_text(),
    }


def _started_together(data_dir: Path, ready: multiprocessing.synchronize.Barrier) -> str:
    ready.wait()
    return json.dumps(_secrets_of(data_dir))


def _all_at_once(data_dir: Path) -> list[dict[str, str]]:
    """What ``PROCESSES`` processes, starting at the same moment, read as their secrets."""
    context = multiprocessing.get_context("fork")
    manager = context.Manager()
    ready = manager.Barrier(PROCESSES)
    with context.Pool(PROCESSES) as pool:
        seen = pool.starmap(_started_together, [(data_dir, ready)] * PROCESSES)
    manager.shutdown()
    return [json.loads(s) for s in seen]


@pytest.mark.parametrize("round_", range(3))
def test_processes_starting_together_on_a_new_data_directory_share_one_set(
    tmp_path: Path, round_: int
) -> None:
    data_dir = tmp_path / f"new-{round_}"
    seen = _all_at_once(data_dir)
    assert all(s == seen[0] for s in seen)
    assert _secrets_of(data_dir) == seen[0]  # and they are what the file keeps
    assert (data_dir / DEVELOPMENT_SECRETS).stat().st_mode & 0o077 == 0
    assert [p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_a_missing_secret_is_added_once_and_the_others_kept(tmp_path: Path) -> None:
    older = new_secrets()
    del older["nats_store_key"]  # a data directory from before that secret existed
    (tmp_path / DEVELOPMENT_SECRETS).write_text(json.dumps(older))
    seen = _all_at_once(tmp_path)
    assert all(s == seen[0] for s in seen)
    assert seen[0]["cipher_key"] == older["cipher_key"]
    assert seen[0]["signing_key"] == older["signing_key"]
    kept = json.loads((tmp_path / DEVELOPMENT_SECRETS).read_text())
    assert kept == older | {"nats_store_key": seen[0]["nats_store_key"]}


@pytest.mark.parametrize("text", ["", "{", "[]", '{"cipher_key": 1}', "\udcff"])
def test_an_unreadable_file_is_refused_and_left_as_it_is(tmp_path: Path, text: str) -> None:
    path = tmp_path / DEVELOPMENT_SECRETS
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(SettingsError, match="restore the file from a backup"):
        Settings(store="memory", data_dir=tmp_path).cipher_key_text()
    assert path.read_bytes() == text.encode("utf-8", "surrogateescape")
