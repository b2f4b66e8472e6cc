"""What export needs from a models/ training run directory.

The directory layout and the checkpoint format belong to models/ (checkpoint.py,
train.py); this module only reads them, so a change there shows up here alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqserve.export.contract import Seq2SeqModule


@dataclass
class TrainingRun:
    module: Seq2SeqModule
    source_sp_path: Path
    target_sp_path: Path
    encode_source: Callable[[str], list[int]]
    """Text -> source ids with EOS, exactly as training and the server encode it."""
    held_out: list[tuple[str, str]]
    """test.tsv pairs (valid.tsv when there is no test split)."""
    training: dict[str, Any] = field(default_factory=dict)
    config_overrides: dict[str, Any] = field(default_factory=dict)


def _training_section(state: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """JSON-able training facts from a checkpoint: per-epoch metrics and the recipe."""
    epochs = list(state.get("metrics") or [])
    section: dict[str, Any] = {"run_dir": str(run_dir.resolve()), "epochs": epochs}
    if epochs:
        section["final"] = epochs[-1]
    for key in ("epoch", "step_in_epoch", "model_config", "train_config"):
        if key in state:
            section[key] = state[key]
    return section


def load_run(run_dir: Path) -> TrainingRun:
    # models/ needs torch and its data helpers; import on use so that the rest
    # of export/ works with any module implementing the contract.
    from seqserve.models.checkpoint import (
        CHECKPOINT,
        TEST_TSV,
        VALID_TSV,
        load_checkpoint,
        load_trained,
    )
    from seqserve.models.data import read_tsv
    from seqserve.models.tokenizer import SOURCE_MODEL, TARGET_MODEL, encode_source

    module, source_sp, _ = load_trained(run_dir)
    state = load_checkpoint(run_dir / CHECKPOINT)
    split = run_dir / TEST_TSV if (run_dir / TEST_TSV).is_file() else run_dir / VALID_TSV
    held_out = read_tsv(split) if split.is_file() else []
    corpus = (state.get("train_config") or {}).get("corpus")
    overrides = {"description": f"LSTM encoder-decoder trained on {corpus}"} if corpus else {}
    training = _training_section(state, run_dir)
    training["held_out_split"] = split.name
    return TrainingRun(
        module=module,
        source_sp_path=run_dir / SOURCE_MODEL,
        target_sp_path=run_dir / TARGET_MODEL,
        encode_source=lambda text: encode_source(source_sp, text),
        held_out=held_out,
        training=training,
        config_overrides=overrides,
    )
