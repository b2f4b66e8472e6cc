"""Streaming-session fixtures: tiny models trained in the test run (seconds, bounded by
step counts), exported like the demo's, and the real server on them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server_process import ServerProcess, running_server

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")

IDLE_TIMEOUT = 4.0
"""Idle timeout of the served co2 model: short, so expiry is testable."""
MAX_CHUNK = 32


def _dir(factory: pytest.TempPathFactory, name: str) -> Path:
    return Path(_CACHE) / name if _CACHE else factory.mktemp(name)


@pytest.fixture(scope="session")
def streaming_repository(
    co2_run: Path, charlm_run: Path, wide_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from seqserve.export.streaming import export_streaming_run

    repository = _dir(tmp_path_factory, "streaming-repo")
    limits = {"max_chunk_steps": MAX_CHUNK, "max_sessions": 256}
    if not (repository / "co2" / "1").exists():
        export_streaming_run(co2_run, repository, "co2", 1, config_overrides={
            "limits": {**limits, "idle_timeout_seconds": IDLE_TIMEOUT}})
    if not (repository / "charlm" / "1").exists():
        export_streaming_run(charlm_run, repository, "charlm", 1,
                             config_overrides={"limits": limits})
    if not (repository / "wide" / "1").exists():
        export_streaming_run(wide_run, repository, "wide", 1,
                             config_overrides={"limits": limits})
    return repository


@pytest.fixture(scope="session")
def sqlite_repository(co2_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """co2 again, snapshotting every chunk to an SQLite file outside the repository."""
    from seqserve.export.streaming import export_streaming_run

    repository = tmp_path_factory.mktemp("sqlite-repo")
    store = tmp_path_factory.mktemp("store") / "sessions.sqlite"
    export_streaming_run(co2_run, repository, "co2", 1, config_overrides={
        "limits": {"max_chunk_steps": MAX_CHUNK, "max_sessions": 256},
        "sessions": {"store": "sqlite", "sqlite_path": str(store), "snapshot": "every_chunk"},
    })
    return repository


@pytest.fixture(scope="session")
def streaming_server(streaming_repository: Path) -> Iterator[ServerProcess]:
    with running_server(streaming_repository) as process:
        yield process
