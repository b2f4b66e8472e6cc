"""Replica fixtures: a repository with a streaming model (co2, snapshots every chunk)
and a translator (numbers, the stateless RPCs), one redis-server per module, and
helpers that drive a session through a balancer the way a real client would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_process import RedisProcess, running_redis

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")
MAX_CHUNK = 16
LEASE_SECONDS = 1.5
"""Short leases: a SIGKILLed replica's sessions are free again within ~2 s."""


@pytest.fixture(scope="session")
def replica_repository(
    co2_run: Path, numbers_repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from seqserve.export.streaming import export_streaming_run

    repository = Path(_CACHE) / "replicas-repo" if _CACHE else tmp_path_factory.mktemp("rr")
    repository.mkdir(parents=True, exist_ok=True)
    if not (repository / "co2" / "1").exists():
        export_streaming_run(co2_run, repository, "co2", 1, config_overrides={
            "limits": {"max_chunk_steps": MAX_CHUNK, "max_sessions": 512,
                       "idle_timeout_seconds": 120.0},
            "sessions": {"store": "redis", "snapshot": "every_chunk"},
        })
    if not (repository / "numbers").exists():
        (repository / "numbers").symlink_to(numbers_repository / "numbers")
    return repository


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with running_redis() as server:
        yield server


def store_args(redis_server: RedisProcess) -> list[str]:
    return ["--session-store", f"{redis_server.url}?lease_seconds={LEASE_SECONDS}",
            "--grace", "5", "--log-level", "warning"]
