"""`seqserve export` on a run directory laid out as models/train.py writes it.

The model is models/seq2seq.py's Seq2Seq (random weights, tiny): this also proves
the real architecture (BiLSTM reversed within length) exports and verifies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from seqserve.export.cli import main
from tests.export.conftest import TinyCorpus


@pytest.fixture(scope="module")
def run_dir(tiny_corpus: TinyCorpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from seqserve.models.checkpoint import save_checkpoint
    from seqserve.models.data import write_tsv
    from seqserve.models.seq2seq import Seq2Seq

    out = tmp_path_factory.mktemp("run")
    torch.manual_seed(3)
    model = Seq2Seq(
        tiny_corpus.source_vocab, tiny_corpus.target_vocab,
        emb_dim=8, hidden=10, enc_hidden=6, dec_layers=2, dropout=0.0,
    )  # fmt: skip
    metrics = [{"epoch": 1, "valid_loss": 2.5, "valid_ppl": 12.2}]
    save_checkpoint(
        out / "checkpoint.pt",
        {
            "model_config": model.config_dict(),
            "model_state": model.state_dict(),
            "epoch": 1,
            "metrics": metrics,
            "train_config": {"corpus": "tiny-numbers", "out": str(out)},
        },
    )
    shutil.copyfile(tiny_corpus.source_model, out / "source.model")
    shutil.copyfile(tiny_corpus.target_model, out / "target.model")
    write_tsv(out / "test.tsv", tiny_corpus.pairs[:30])
    write_tsv(out / "valid.tsv", tiny_corpus.pairs[30:40])
    return out


def test_cli_exports_a_run_and_prints_the_figures(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--run", str(run_dir), "--model-repository", str(tmp_path), "--name", "numbers",
        "--version", "7", "--bleu-pairs", "12", "--verify-sentences", "6",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "parity  encoder  (dynamo): max |ORT - torch|" in out
    assert "verify  beam4   : 6/6 identical" in out
    assert "verify  greedy  : 6/6 identical" in out
    assert "quality beam5   : BLEU" in out
    assert "on 12 pairs" in out
    manifest = json.loads((tmp_path / "numbers" / "7" / "manifest.json").read_text())
    assert manifest["training"]["final"]["valid_loss"] == 2.5
    assert manifest["training"]["held_out_split"] == "test.tsv"
    assert manifest["model"]["dims"]["layers"] == 2


def test_cli_reports_a_failure_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--run", str(tmp_path / "nope"), "--model-repository", str(tmp_path), "--name", "x"]
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("export failed: ")
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []
