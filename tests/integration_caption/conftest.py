"""Session fixtures: a captioner trained briefly on rendered scenes (bounded to
about half a minute on 2 cores), exported, and the real server serving it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server_process import ServerProcess, running_server

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")
LIMITS = {"max_images": 4, "max_image_bytes": 200_000, "max_pixels": 512 * 512,
          "max_beam_size": 6, "max_output_length": 32}


@pytest.fixture(scope="session")
def captioner_repository(captioner_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.export.captioner_export import export_captioner

    repository = (
        Path(_CACHE) / "captioner-repo" if _CACHE else tmp_path_factory.mktemp("caption-repo")
    )
    if not (repository / "scenes" / "1").exists():
        export_captioner(captioner_run, repository, "scenes", 1, quality_scenes=60,
                         config_overrides={"limits": LIMITS})
    return repository


@pytest.fixture(scope="session")
def caption_server(captioner_repository: Path) -> Iterator[ServerProcess]:
    with running_server(captioner_repository) as process:
        yield process
