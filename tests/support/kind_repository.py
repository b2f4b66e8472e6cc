"""The repository with a model of every kind (two translators, a tagger, a captioner,
a streaming forecaster) and the session-scoped server over it: the KServe tests and
the kind contract suite (tests/contract/) share this one server.

The translator comes from the suite's session fixture; the captioner is a
seconds-long run of its own; the tagger and the forecaster reuse the training
fixtures of their own test packages (small runs) and are exported here under
the names these tests use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server_process import ServerProcess, running_server

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")

TRANSLATOR, SECOND_TRANSLATOR, TAGGER, FORECASTER = "numbers", "numbers-b", "pos", "co2"
CAPTIONER = "scenes"


@pytest.fixture(scope="session")
def tiny_captioner_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A captioner trained for seconds: these tests compare APIs, not caption quality."""
    from seqserve.models.train_captioner import CaptionerTrainConfig, train_captioner

    out = Path(_CACHE) / "kserve-captioner-run" if _CACHE else tmp_path_factory.mktemp("capt")
    if not (out / "DONE").exists():
        train_captioner(CaptionerTrainConfig(
            out=out, train_scenes=200, test_scenes=8, epochs=1, max_minutes=0.1,
            memory_dim=16, hidden=32,
        ))
        (out / "DONE").write_text("ok")
    return out


@pytest.fixture(scope="session")
def kserve_repository(
    numbers_repository: Path, tagger_run: Path, co2_run: Path,
    tiny_captioner_run: Path, tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    from seqserve.export.captioner_export import export_captioner
    from seqserve.export.streaming import export_streaming_run
    from seqserve.export.tagger_export import export_tagger

    root = Path(_CACHE) / "kserve-repo" if _CACHE else tmp_path_factory.mktemp("kserve-repo")
    root.mkdir(parents=True, exist_ok=True)
    # Two names for one exported translator: the second one is loaded and
    # unloaded while the first keeps serving.
    for name in (TRANSLATOR, SECOND_TRANSLATOR):
        if not (root / name).exists():
            (root / name).symlink_to(numbers_repository / TRANSLATOR, target_is_directory=True)
    if not (root / TAGGER / "1").exists():
        export_tagger(tagger_run, root, TAGGER, 1, config_overrides={
            "limits": {"max_sentences": 16, "max_tokens": 40, "max_top_k": 3},
        })
    if not (root / FORECASTER / "1").exists():
        export_streaming_run(co2_run, root, FORECASTER, 1, config_overrides={
            "limits": {"max_chunk_steps": 32, "max_sessions": 64},
        })
    if not (root / CAPTIONER / "1").exists():
        export_captioner(tiny_captioner_run, root, CAPTIONER, 1, quality_scenes=4,
                         config_overrides={"limits": {"max_images": 4}})
    return root


@pytest.fixture(scope="session")
def kserve_server(kserve_repository: Path) -> Iterator[ServerProcess]:
    with running_server(kserve_repository) as process:
        yield process
