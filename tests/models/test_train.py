"""Training end to end on a tiny TSV corpus: outputs, budget stop, resume, load_trained."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqserve.models.checkpoint import CHECKPOINT, load_checkpoint, load_trained
from seqserve.models.cli import main
from seqserve.models.data import read_tsv, write_tsv
from seqserve.models.tokenizer import encode_source
from seqserve.models.train import TrainConfig, train

WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
MOTS = ["un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"]


def _corpus(path: Path) -> str:
    pairs = [
        (f"{a} {b}", f"{x} {y}")
        for a, x in zip(WORDS, MOTS, strict=True)
        for b, y in zip(WORDS, MOTS, strict=True)
    ]
    write_tsv(path, pairs)
    return f"tsv:{path}"


def _config(corpus: str, out: Path, **kw: object) -> TrainConfig:
    sizes = dict(vocab_size=40, emb=8, hidden=8, layers=1, batch_size=16, lr=1e-2, dropout=0.0)
    return TrainConfig(corpus=corpus, out=out, progress=False, **{**sizes, **kw})  # type: ignore[arg-type]


def test_train_writes_model_directory_and_resumes(tmp_path: Path) -> None:
    corpus, out = _corpus(tmp_path / "pairs.tsv"), tmp_path / "run"
    first = train(_config(corpus, out, epochs=1, max_minutes=5))
    assert [m.epoch for m in first.metrics] == [1] and first.metrics[0].complete
    for name in (
        "checkpoint.pt",
        "source.model",
        "target.model",
        "test.tsv",
        "valid.tsv",
        "metrics.json",
    ):
        assert (out / name).is_file(), name
    # 100 pairs minus "six six" (identical on both sides) -> 99: 10% test, 5% valid.
    assert len(read_tsv(out / "test.tsv")) == 9 and len(read_tsv(out / "valid.tsv")) == 4

    with pytest.raises(FileExistsError):
        train(_config(corpus, out, epochs=2))
    resumed = train(_config(corpus, out, epochs=2, resume=True))
    assert [m.epoch for m in resumed.metrics] == [1, 2]
    state = load_checkpoint(out / CHECKPOINT)
    assert state["epoch"] == 2 and state["step_in_epoch"] == 0

    model, source_sp, target_sp = load_trained(out)
    assert not model.training and target_sp.get_piece_size() == model.config.tgt_vocab
    src = torch.tensor([encode_source(source_sp, "one two")])
    assert model(src, torch.tensor([src.shape[1]]), torch.tensor([[1]])).shape[-1] > 4


def test_time_budget_stops_after_one_batch_and_checkpoints(tmp_path: Path) -> None:
    corpus, out = _corpus(tmp_path / "pairs.tsv"), tmp_path / "run"
    result = train(_config(corpus, out, epochs=3, max_minutes=0.0))
    assert result.stopped_by_budget
    assert [(m.epoch, m.complete, m.sentences) for m in result.metrics] == [(1, False, 16)]
    state = load_checkpoint(out / CHECKPOINT)
    assert (state["epoch"], state["step_in_epoch"]) == (0, 1)
    # Resuming finishes the interrupted epoch from its second batch.
    resumed = train(_config(corpus, out, epochs=1, max_minutes=5, resume=True))
    assert resumed.metrics[-1].complete and resumed.metrics[-1].sentences == 86 - 16


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--corpus", "bogus", "--out", str(tmp_path / "x")]) == 2
    assert "unknown corpus" in capsys.readouterr().err
    corpus = _corpus(tmp_path / "pairs.tsv")
    argv = [
        "--corpus",
        corpus,
        "--out",
        str(tmp_path / "cli"),
        "--epochs",
        "1",
        "--vocab-size",
        "40",
        "--emb",
        "8",
        "--hidden",
        "8",
        "--batch-size",
        "32",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert (tmp_path / "cli" / "checkpoint.pt").is_file()
