"""The num2words task: a tiny model must translate held-out numbers (>= 90% exact match)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seqserve.models.checkpoint import load_trained
from seqserve.models.data import read_tsv
from seqserve.models.evaluate import exact_match, translate
from seqserve.models.train import TrainConfig, train


@pytest.mark.slow
def test_numbers_model_translates_unseen_numbers(tmp_path: Path) -> None:
    started = time.monotonic()
    # Two epochs of the preset (~40 s here); the budget bounds a slow, shared machine.
    result = train(
        TrainConfig(corpus="numbers", out=tmp_path, epochs=2, max_minutes=1.5, progress=False)
    )
    model, source_sp, target_sp = load_trained(tmp_path)
    test = read_tsv(tmp_path / "test.tsv")
    train_sources = {s for s, _ in read_tsv(tmp_path / "valid.tsv")}
    assert len(test) == 1000 and not train_sources & {s for s, _ in test}
    score = exact_match(translate(model, source_sp, target_sp, [s for s, _ in test]), test)
    seconds = sum(m.train_seconds for m in result.metrics)
    print(
        f"numbers: exact match {score:.3f} after {seconds:.0f} s of training "
        f"({time.monotonic() - started:.0f} s in all)"
    )
    assert score >= 0.9
