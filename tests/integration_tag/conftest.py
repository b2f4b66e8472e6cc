"""Session fixtures: a tagger trained on the real Turkish treebank (two short
epochs, ~20 s on 2 cores), exported twice (a normal model and one with a tiny
queue and a long batching delay, for backpressure), and the real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server_process import ServerProcess, running_server

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")
LIMITS = {"max_sentences": 16, "max_tokens": 40, "max_top_k": 3}


@pytest.fixture(scope="session")
def tagger_repository(tagger_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.export.tagger_export import export_tagger

    repository = Path(_CACHE) / "tagger-repo" if _CACHE else tmp_path_factory.mktemp("tag-repo")
    if not (repository / "pos" / "1").exists():
        export_tagger(tagger_run, repository, "pos", 1, config_overrides={
            "limits": LIMITS, "batching": {"max_batch_size": 32, "max_queue_delay_ms": 2.0},
        })
    if not (repository / "pos-tiny-queue" / "1").exists():
        export_tagger(tagger_run, repository, "pos-tiny-queue", 1, config_overrides={
            "limits": LIMITS,
            "batching": {"max_batch_size": 64, "max_queue_delay_ms": 800.0, "max_queue": 4,
                         "adaptive_delay": False},
        })
    return repository


@pytest.fixture(scope="session")
def tag_server(tagger_repository: Path) -> Iterator[ServerProcess]:
    with running_server(tagger_repository) as process:
        yield process
