"""Checkpoint files of a training directory and loading a trained model from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch

from seqserve.models.seq2seq import Seq2Seq
from seqserve.models.tokenizer import SOURCE_MODEL, TARGET_MODEL, load_sentencepiece

CHECKPOINT = "checkpoint.pt"
TEST_TSV = "test.tsv"
VALID_TSV = "valid.tsv"
METRICS_JSON = "metrics.json"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write atomically: a run stopped mid-write must not destroy the last good checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    # weights_only=False: the file also holds plain-Python metrics and RNG state;
    # checkpoints are our own training output, not untrusted downloads.
    return torch.load(path, map_location="cpu", weights_only=False)


def load_trained(
    directory: str | Path,
) -> tuple[Seq2Seq, spm.SentencePieceProcessor, spm.SentencePieceProcessor]:
    """(model in eval mode, source tokenizer, target tokenizer) from a training directory."""
    directory = Path(directory)
    state = load_checkpoint(directory / CHECKPOINT)
    model = Seq2Seq.from_config(state["model_config"])
    model.load_state_dict(state["model_state"])
    model.eval()
    return (
        model,
        load_sentencepiece(directory / SOURCE_MODEL),
        load_sentencepiece(directory / TARGET_MODEL),
    )
