"""Training recipes of the two streaming models, bounded by a time budget.

A run directory holds `checkpoint.pt` (state dict + architecture), `run.json`
(data split, normalisation or vocabulary, metrics); export/streaming.py reads both.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seqserve.models.streaming.data import (
    CO2_SEASON,
    char_vocabulary,
    encode_chars,
    load_co2,
    load_english_text,
)
from seqserve.models.streaming.nets import CharLM, Forecaster

KINDS = ("charlm", "co2")


@dataclass
class StreamTrainConfig:
    kind: str
    """charlm | co2"""
    out: Path
    max_minutes: float = 3.0
    seed: int = 1234
    hidden: int = 0
    """0 = the kind's default (charlm 256, co2 48)."""
    layers: int = 1
    batch_size: int = 32
    window: int = 128
    lr: float = 3e-3
    threads: int = 2
    max_steps: int = 100_000
    # charlm
    vocab_size: int = 96
    emb: int = 32
    top_k: int = 5
    max_chars: int | None = None
    """Use only the first N characters of the corpus (tests)."""
    # co2
    horizon: int = 4
    extra: dict[str, Any] = field(default_factory=dict)


def _windows(data: np.ndarray, count: int, length: int, rng: np.random.Generator) -> np.ndarray:
    starts = rng.integers(0, len(data) - length - 1, size=count)
    return np.stack([data[s : s + length + 1] for s in starts])


def _loop(model: nn.Module, loss_of, cfg: StreamTrainConfig) -> tuple[int, float]:
    """Adam until the time budget or max_steps; returns (steps, last loss)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    deadline = time.monotonic() + cfg.max_minutes * 60
    steps, loss_value = 0, math.nan
    model.train()
    while steps < cfg.max_steps and time.monotonic() < deadline:
        loss = loss_of(steps)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        steps, loss_value = steps + 1, float(loss.detach())
    model.eval()
    return steps, loss_value


def train_charlm(cfg: StreamTrainConfig) -> dict[str, Any]:
    text = load_english_text(cfg.max_chars)
    split = int(len(text) * 0.95)
    vocab = char_vocabulary(text[:split], cfg.vocab_size)
    ids = encode_chars(text, vocab)
    train_ids, held_ids = ids[:split], ids[split:]
    hidden = cfg.hidden or 256
    model = CharLM(len(vocab), cfg.emb, hidden, cfg.layers, cfg.top_k)
    rng = np.random.default_rng(cfg.seed)
    lossf = nn.CrossEntropyLoss()

    def loss_of(_: int) -> torch.Tensor:
        batch = torch.from_numpy(_windows(train_ids, cfg.batch_size, cfg.window, rng))
        logits = model.logits(batch[:, :-1])
        return lossf(logits.reshape(-1, len(vocab)), batch[:, 1:].reshape(-1))

    steps, loss = _loop(model, loss_of, cfg)
    bpc = held_out_bits_per_char(model, held_ids[:200_000])
    arch = {"vocab": len(vocab), "emb": cfg.emb, "hidden": hidden, "layers": cfg.layers,
            "top_k": cfg.top_k}
    metrics = {"steps": steps, "train_loss_nats": loss, "held_out_bits_per_char": bpc,
               "held_out_chars": int(min(len(held_ids), 200_000)), "train_chars": split}
    return {"arch": arch, "vocabulary": vocab, "metrics": metrics, "model": model,
            "held_out_ids": held_ids[:4000].tolist()}


@torch.no_grad()
def held_out_bits_per_char(model: CharLM, ids: np.ndarray, chunk: int = 2000) -> float:
    """Mean surprise (bits) of every held-out character after the first, state carried."""
    state = model.init_state(1)
    total, count = 0.0, 0
    tokens = torch.from_numpy(ids).view(1, -1)
    for start in range(0, tokens.shape[1], chunk):
        piece = tokens[:, start : start + chunk]
        _, _, surprise, *state = model.step(piece, torch.tensor([piece.shape[1]]), *state)
        s = surprise[0, 1:] if start == 0 else surprise[0]  # the first char has no context
        total, count = total + float(s.sum()), count + s.numel()
    return total / max(count, 1)


def train_co2(cfg: StreamTrainConfig) -> dict[str, Any]:
    series = load_co2()
    split = int(len(series) * 0.8)
    mean, std = float(series[:split].mean()), float(series[:split].std())
    norm = ((series - mean) / std).astype(np.float32)
    hidden = cfg.hidden or 48
    model = Forecaster(hidden, cfg.layers, cfg.horizon)
    rng = np.random.default_rng(cfg.seed)
    window = min(cfg.window, split // 2)

    def loss_of(_: int) -> torch.Tensor:
        batch = torch.from_numpy(
            _windows(norm[:split], cfg.batch_size, window + cfg.horizon, rng)
        )
        x = batch[:, :window].unsqueeze(-1)
        pred = model.predict(x)  # [B,W,H]: value at t+1+k
        target = torch.stack(
            [batch[:, 1 + k : 1 + k + window] for k in range(cfg.horizon)], dim=-1
        )
        return nn.functional.mse_loss(pred, target)

    steps, loss = _loop(model, loss_of, cfg)
    quality = co2_quality(model, series, norm, split, mean, std)
    arch = {"hidden": hidden, "layers": cfg.layers, "horizon": cfg.horizon, "diff_scale": 10.0}
    metrics = {"steps": steps, "train_mse_norm": loss, **quality}
    return {"arch": arch, "normalization": {"mean": [mean], "std": [std]},
            "metrics": metrics, "model": model,
            "held_out_values": series[split:].tolist(), "split": split}


@torch.no_grad()
def co2_quality(
    model: Forecaster, series: np.ndarray, norm: np.ndarray, split: int, mean: float, std: float
) -> dict[str, float]:
    """One-step forecasts over the held-out tail (state warmed on the whole past)
    against the seasonal-naive forecast y[t-52], on the same target weeks."""
    x = torch.from_numpy(norm).view(1, -1, 1)
    forecast, *_ = model.step(x, torch.tensor([x.shape[1]]), *model.init_state(1))
    one_step = forecast[0, :, 0].double().numpy() * std + mean  # forecast of t+1 made at t
    targets = np.arange(split, len(series))
    model_mae = float(np.abs(one_step[targets - 1] - series[targets]).mean())
    snaive_mae = float(np.abs(series[targets - CO2_SEASON] - series[targets]).mean())
    naive_mae = float(np.abs(series[targets - 1] - series[targets]).mean())
    in_sample = float(np.abs(series[CO2_SEASON:split] - series[: split - CO2_SEASON]).mean())
    return {
        "held_out_weeks": len(targets),
        "mae_ppm": model_mae,
        "seasonal_naive_mae_ppm": snaive_mae,
        "naive_last_value_mae_ppm": naive_mae,
        "mae_ratio_vs_seasonal_naive_tail": model_mae / snaive_mae,
        "mase_in_sample_seasonal_scale": model_mae / in_sample,
    }


def train_streaming(cfg: StreamTrainConfig) -> dict[str, Any]:
    """Train, write the run directory, return run.json's content."""
    if cfg.kind not in KINDS:
        raise ValueError(f"unknown streaming kind {cfg.kind!r} (known: {KINDS})")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    started = time.monotonic()
    result = train_charlm(cfg) if cfg.kind == "charlm" else train_co2(cfg)
    model = result.pop("model")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"kind": cfg.kind, "arch": result["arch"], "state_dict": model.state_dict()},
               out / "checkpoint.pt")
    run = {"kind": cfg.kind, **result, "train_seconds": time.monotonic() - started,
           "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}}
    (out / "run.json").write_text(json.dumps(run, indent=1))
    return run


def load_streaming_run(run_dir: Path) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, run.json) of a run directory."""
    run = json.loads((Path(run_dir) / "run.json").read_text())
    ckpt = torch.load(Path(run_dir) / "checkpoint.pt", map_location="cpu")
    arch = ckpt["arch"]
    model: nn.Module = CharLM(**arch) if ckpt["kind"] == "charlm" else Forecaster(**arch)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), run
