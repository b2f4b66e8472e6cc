"""Small models trained once per test session, shared by every test package that
serves them (registered in tests/conftest.py: a fixture imported into several
conftests would be a separate fixture in each, and train again).

SEQSERVE_TEST_CACHE keeps the runs between local test sessions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_CACHE = os.environ.get("SEQSERVE_TEST_CACHE")


def _dir(factory: pytest.TempPathFactory, name: str) -> Path:
    if _CACHE:
        path = Path(_CACHE) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
    return factory.mktemp(name)


@pytest.fixture(scope="session")
def tagger_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.models.train_tagger import TaggerTrainConfig, train_tagger

    out = _dir(tmp_path_factory, "tagger-run")
    if not (out / "DONE").exists():
        train_tagger(TaggerTrainConfig(out=out, epochs=2, max_minutes=5.0))
        (out / "DONE").write_text("ok")
    return out


@pytest.fixture(scope="session")
def captioner_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.models.train_captioner import CaptionerTrainConfig, train_captioner

    out = _dir(tmp_path_factory, "captioner-run")
    if not (out / "DONE").exists():
        train_captioner(CaptionerTrainConfig(
            out=out, train_scenes=1500, test_scenes=60, epochs=2, max_minutes=0.4,
        ))
        (out / "DONE").write_text("ok")
    return out


@pytest.fixture(scope="session")
def co2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.models.streaming.train import StreamTrainConfig, train_streaming

    out = _dir(tmp_path_factory, "co2-run")
    if not (out / "run.json").exists():
        train_streaming(StreamTrainConfig(kind="co2", out=out, hidden=16, max_steps=150,
                                          window=64, threads=1))
    return out


@pytest.fixture(scope="session")
def charlm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqserve.models.streaming.train import StreamTrainConfig, train_streaming

    out = _dir(tmp_path_factory, "charlm-run")
    if not (out / "run.json").exists():
        train_streaming(StreamTrainConfig(kind="charlm", out=out, hidden=32, emb=16,
                                          max_steps=60, window=64, max_chars=300_000,
                                          threads=1))
    return out


@pytest.fixture(scope="session")
def wide_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 3-feature forecaster: wrong-feature-size checks need features > 1."""
    import torch

    from seqserve.models.streaming.nets import Forecaster

    out = _dir(tmp_path_factory, "wide-run")
    if not (out / "run.json").exists():
        torch.manual_seed(0)
        arch = {"hidden": 8, "layers": 1, "horizon": 2, "features": 3}
        torch.save({"kind": "co2", "arch": arch, "state_dict": Forecaster(**arch).state_dict()},
                   out / "checkpoint.pt")
        run = {"kind": "co2", "arch": arch, "metrics": {},
               "normalization": {"mean": [0.0, 1.0, 2.0], "std": [1.0, 2.0, 3.0]}}
        (out / "run.json").write_text(json.dumps(run))
    return out
