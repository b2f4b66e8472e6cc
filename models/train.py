"""Train a Seq2Seq translator on a corpus spec; resumable, with a wall-clock budget.

The output directory holds everything export/ needs: checkpoint.pt (model config,
weights, optimizer, epoch, metrics), source.model / target.model, the held-out
test.tsv / valid.tsv, and metrics.json.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
from torch import nn
from tqdm import tqdm

from seqserve.models.batching import Batch, Example, bucketed_batches, collate, encode_pairs
from seqserve.models.checkpoint import (
    CHECKPOINT,
    METRICS_JSON,
    TEST_TSV,
    VALID_TSV,
    load_checkpoint,
    save_checkpoint,
)
from seqserve.models.corpus import PRESETS, corpus_kind, load_splits
from seqserve.models.data import Pair, write_tsv
from seqserve.models.seq2seq import PAD_ID, Seq2Seq
from seqserve.models.tokenizer import (
    SOURCE_MODEL,
    TARGET_MODEL,
    load_sentencepiece,
    train_sentencepiece,
)


@dataclass(frozen=True)
class TrainConfig:
    """Fields left as None take the corpus preset (models/corpus.py PRESETS)."""

    corpus: str
    out: Path
    epochs: int | None = None
    """Total epochs (a resumed run continues up to this number)."""
    max_minutes: float | None = None
    """Training wall-clock budget of this invocation; stops after the current batch."""
    seed: int = 1234
    vocab_size: int | None = None
    emb: int | None = None
    hidden: int | None = None
    layers: int | None = None
    """Decoder LSTM layers (the encoder has one bidirectional layer)."""
    batch_size: int | None = None
    lr: float | None = None
    dropout: float | None = None
    max_tokens: int | None = None
    """Training pairs longer than this (subwords, EOS included) are skipped."""
    label_smoothing: float = 0.1
    clip: float = 1.0
    resume: bool = False
    progress: bool = True
    threads: int = 2

    def resolved(self) -> TrainConfig:
        preset = asdict(PRESETS[corpus_kind(self.corpus)])
        filled = {
            f.name: preset[f.name]
            for f in fields(self)
            if getattr(self, f.name) is None and f.name in preset
        }
        return replace(self, out=Path(self.out), **filled)


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int
    complete: bool
    """False when the time budget stopped the epoch early."""
    train_loss: float
    valid_loss: float
    """Per-token cross entropy without label smoothing."""
    valid_ppl: float
    sentences: int
    train_seconds: float
    sentences_per_second: float


@dataclass
class TrainResult:
    out: Path
    metrics: list[EpochMetrics] = field(default_factory=list)
    stopped_by_budget: bool = False


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _tokenizers(
    cfg: TrainConfig, train_pairs: list[Pair], reuse: bool
) -> tuple[spm.SentencePieceProcessor, spm.SentencePieceProcessor]:
    src_file, tgt_file = cfg.out / SOURCE_MODEL, cfg.out / TARGET_MODEL
    if reuse and src_file.is_file() and tgt_file.is_file():
        return load_sentencepiece(src_file), load_sentencepiece(tgt_file)
    assert cfg.vocab_size is not None
    # Trained on the training split only, so held-out text cannot shape the vocabulary.
    source = train_sentencepiece([s for s, _ in train_pairs], src_file, cfg.vocab_size)
    target = train_sentencepiece([t for _, t in train_pairs], tgt_file, cfg.vocab_size)
    return source, target


@torch.no_grad()
def evaluate_loss(model: Seq2Seq, examples: list[Example], batch_size: int = 128) -> float:
    """Mean per-token cross entropy (nats) of the targets + EOS."""
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    for index in bucketed_batches(examples, batch_size, seed=0):
        batch = collate([examples[i] for i in index])
        real = batch.tgt_out != PAD_ID
        logits = model(batch.src, batch.src_lengths, batch.tgt_in, positions=real)
        total += float(nn.functional.cross_entropy(logits, batch.tgt_out[real], reduction="sum"))
        tokens += int(real.sum())
    model.train(was_training)
    return total / max(tokens, 1)


def _train_step(
    model: Seq2Seq, optimizer: torch.optim.Optimizer, batch: Batch, cfg: TrainConfig
) -> float:
    real = batch.tgt_out != PAD_ID
    logits = model(batch.src, batch.src_lengths, batch.tgt_in, positions=real)
    loss = nn.functional.cross_entropy(
        logits, batch.tgt_out[real], label_smoothing=cfg.label_smoothing
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    optimizer.step()
    return float(loss.detach())


def _build_model(cfg: TrainConfig, src_vocab: int, tgt_vocab: int) -> Seq2Seq:
    assert cfg.emb and cfg.hidden and cfg.layers is not None and cfg.dropout is not None
    return Seq2Seq(
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        emb_dim=cfg.emb,
        hidden=cfg.hidden,
        enc_hidden=cfg.hidden,
        enc_layers=1,
        dec_layers=cfg.layers,
        dropout=cfg.dropout,
    )


def _resume_state(cfg: TrainConfig) -> tuple[TrainConfig, dict[str, Any] | None]:
    """Load the checkpoint of a resumed run; its hyper-parameters win over the command line
    (the weights only fit them), except the epoch target and the time budget."""
    path = cfg.out / CHECKPOINT
    if not path.is_file():
        if cfg.resume:
            print(f"--resume: no {path} yet, starting from scratch")
        return cfg, None
    if not cfg.resume:
        raise FileExistsError(f"{path} exists: pass --resume to continue it, or use another --out")
    state = load_checkpoint(path)
    saved = state["train_config"]
    if saved["corpus"] != cfg.corpus or saved["seed"] != cfg.seed:
        raise ValueError(
            f"{path} was trained on corpus={saved['corpus']!r} seed={saved['seed']}; "
            f"cannot resume with corpus={cfg.corpus!r} seed={cfg.seed}"
        )
    keep = {"out", "epochs", "max_minutes", "resume", "progress", "threads"}
    restored = {k: v for k, v in saved.items() if k not in keep}
    return replace(cfg, **restored), state


def train(config: TrainConfig) -> TrainResult:
    """Train (or resume) and return per-epoch metrics; see the module docstring for outputs."""
    cfg = config.resolved()
    cfg.out.mkdir(parents=True, exist_ok=True)
    cfg, state = _resume_state(cfg)
    assert cfg.epochs is not None and cfg.max_minutes is not None and cfg.batch_size
    torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed)

    splits = load_splits(cfg.corpus, cfg.seed)
    write_tsv(cfg.out / TEST_TSV, splits.test)
    write_tsv(cfg.out / VALID_TSV, splits.valid)
    source_sp, target_sp = _tokenizers(cfg, splits.train, reuse=state is not None)
    train_examples = encode_pairs(splits.train, source_sp, target_sp, cfg.max_tokens)
    valid_examples = encode_pairs(splits.valid, source_sp, target_sp, cfg.max_tokens)
    print(
        f"corpus {cfg.corpus}: {len(splits.train)} train pairs ({len(train_examples)} within "
        f"{cfg.max_tokens} tokens), {len(splits.valid)} valid, {len(splits.test)} test; "
        f"vocab {source_sp.get_piece_size()}/{target_sp.get_piece_size()}"
    )

    model = _build_model(cfg, source_sp.get_piece_size(), target_sp.get_piece_size())
    # fused: one kernel per step instead of ~10 elementwise passes over every weight.
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
    result = TrainResult(out=cfg.out)
    epoch, step_in_epoch = 0, 0
    if state is not None:
        model.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer_state"])
        torch.set_rng_state(state["torch_rng"])
        epoch, step_in_epoch = state["epoch"], state["step_in_epoch"]
        result.metrics = [EpochMetrics(**m) for m in state["metrics"]]

    # The budget counts training only: corpus parsing and tokenizer training
    # take a fixed ~30 s that says nothing about the model.
    deadline = time.monotonic() + 60.0 * cfg.max_minutes
    while epoch < cfg.epochs and not result.stopped_by_budget:
        # The batch order of an epoch depends only on (seed, epoch), so a resumed
        # run skips exactly the batches the interrupted one had done.
        batches = bucketed_batches(train_examples, cfg.batch_size, seed=cfg.seed * 1000 + epoch)
        model.train()
        loss_sum, sentences, train_seconds = 0.0, 0, 0.0
        bar = tqdm(
            total=len(batches),
            initial=step_in_epoch,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not cfg.progress,
            unit="batch",
        )
        for step in range(step_in_epoch, len(batches)):
            batch = collate([train_examples[i] for i in batches[step]])
            tick = time.monotonic()
            loss = _train_step(model, optimizer, batch, cfg)
            train_seconds += time.monotonic() - tick
            loss_sum += loss * batch.size
            sentences += batch.size
            step_in_epoch = step + 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", sent_s=f"{sentences / train_seconds:.0f}")
            if time.monotonic() >= deadline:
                result.stopped_by_budget = step_in_epoch < len(batches)
                break
        bar.close()
        complete = step_in_epoch >= len(batches)
        valid_loss = evaluate_loss(model, valid_examples)
        metrics = EpochMetrics(
            epoch=epoch + 1,
            complete=complete,
            train_loss=loss_sum / max(sentences, 1),
            valid_loss=valid_loss,
            valid_ppl=math.exp(min(valid_loss, 50.0)),
            sentences=sentences,
            train_seconds=train_seconds,
            sentences_per_second=sentences / max(train_seconds, 1e-9),
        )
        result.metrics.append(metrics)
        print(
            f"epoch {metrics.epoch}{'' if complete else ' (partial)'}: "
            f"train loss {metrics.train_loss:.3f}, valid loss {valid_loss:.3f} "
            f"(ppl {metrics.valid_ppl:.1f}), {metrics.sentences_per_second:.0f} sentences/s"
        )
        if complete:
            epoch, step_in_epoch = epoch + 1, 0
        _save(cfg, model, optimizer, epoch, step_in_epoch, result)
        if time.monotonic() >= deadline:
            result.stopped_by_budget = epoch < cfg.epochs
    return result


def _save(
    cfg: TrainConfig,
    model: Seq2Seq,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    step_in_epoch: int,
    result: TrainResult,
) -> None:
    metrics = [asdict(m) for m in result.metrics]
    save_checkpoint(
        cfg.out / CHECKPOINT,
        {
            "model_config": model.config_dict(),
            "model_state": model.state_dict(),
            "optimizer_state": optimizer.state_dict(),
            "epoch": epoch,
            "step_in_epoch": step_in_epoch,
            "metrics": metrics,
            "train_config": {**asdict(cfg), "out": str(cfg.out)},
            "torch_rng": torch.get_rng_state(),
        },
    )
    (cfg.out / METRICS_JSON).write_text(json.dumps({"epochs": metrics}, indent=2) + "\n")
