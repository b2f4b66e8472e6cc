"""Session fixtures: a tiny translator trained in the test run, and the real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kind_repository import (  # noqa: F401 - fixtures, used by name
    kserve_repository,
    kserve_server,
    tiny_captioner_run,
)
from tests.support.server_process import ServerProcess, running_server
from tests.support.trained_runs import (  # noqa: F401 - fixtures, used by name
    captioner_run,
    charlm_run,
    co2_run,
    tagger_run,
    wide_run,
)

# The num2words model trains once per test session (about a minute and a half
# on 2 cores); SEQSERVE_TEST_CACHE keeps it between local runs.
_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")


@pytest.fixture(scope="session")
def numbers_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training run of English -> French number words (a real-rule task)."""
    from seqserve.models.train import TrainConfig, train

    out = Path(_CACHE) / "numbers-run" if _CACHE else tmp_path_factory.mktemp("numbers-run")
    if not (out / "DONE").exists():
        train(TrainConfig(corpus="numbers", out=out, progress=False))
        (out / "DONE").write_text("ok")
    return out


@pytest.fixture(scope="session")
def numbers_repository(numbers_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model repository holding the exported numbers model as `numbers` version 1."""
    from seqserve.export.api import export_run

    repository = (
        Path(_CACHE) / "numbers-repo" if _CACHE else tmp_path_factory.mktemp("repository")
    )
    if not (repository / "numbers" / "1").exists():
        export_run(
            numbers_run, repository, "numbers", version=1, bleu_pairs=200,
            config_overrides={
                "limits": {"max_sentences": 32, "max_source_tokens": 40, "max_beam_size": 6,
                           "max_output_length": 256},
                "decoding": {"beam_size": 4, "n_best": 1, "max_length": 40},
            },
        )
    return repository


@pytest.fixture(scope="session")
def server(numbers_repository: Path) -> Iterator[ServerProcess]:
    with running_server(numbers_repository) as process:
        yield process
