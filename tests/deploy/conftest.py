"""Deployment fixtures: one real server with a translator, a tagger and a streaming model
(the KServe suite's exports), shared by the metrics, Prometheus and manifest tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy.traffic import FORECASTER, TAGGER, TRANSLATOR, send_traffic
from tests.support.kind_repository import (  # noqa: F401 - fixtures, used by name
    kserve_repository,
    tiny_captioner_run,
)
from tests.support.server_process import ServerProcess, running_server


@pytest.fixture(scope="session")
def deploy_repository(
    kserve_repository: Path, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
) -> Path:
    """numbers and pos as exported; co2 copied with a durable (SQLite) session store, so
    its ticks write snapshots and the snapshot-latency series has data."""
    root = tmp_path_factory.mktemp("deploy-repo")
    for name in (TRANSLATOR, TAGGER):
        (root / name).symlink_to((kserve_repository / name).resolve(), target_is_directory=True)
    version = root / FORECASTER / "1"
    shutil.copytree(kserve_repository / FORECASTER / "1", version)
    config = yaml.safe_load((version / "config.yaml").read_text())
    config["sessions"].update(store="sqlite", sqlite_path=str(root / "sessions.sqlite"),
                              snapshot="every_chunk")
    (version / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


@pytest.fixture(scope="session")
def deploy_server(deploy_repository: Path) -> Iterator[ServerProcess]:
    """The real server after one round of traffic of every kind (so every series exists)."""
    with running_server(deploy_repository) as process:
        send_traffic(process.address)
        yield process
