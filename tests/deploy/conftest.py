"""Deployment fixtures: one real server with a model of every kind (the KServe suite's
repository) and its metrics port, shared by the metrics, Prometheus and manifest tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.traffic import send_traffic
from tests.kserve.conftest import (  # noqa: F401 - fixtures, used by name
    kserve_repository,
    tiny_captioner_run,
)
from tests.support.server_process import ServerProcess, running_server


@pytest.fixture(scope="session")
def deploy_server(kserve_repository: Path) -> Iterator[ServerProcess]:  # noqa: F811
    """The real server after one round of traffic of every kind (so every series exists)."""
    with running_server(kserve_repository) as process:
        send_traffic(process.address)
        yield process
