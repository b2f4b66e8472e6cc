"""Training the scene captioner; the run directory export/ reads.

    OUT/captioner.pt  model state, config, preprocessing
    OUT/vocab.json    output words, index = id (specials first)
    OUT/metrics.json  per-epoch loss, greedy BLEU-4 on the held-out scenes

Every epoch renders fresh training scenes (seeded), so the model never sees
the same image twice; the held-out scenes come from held_out_scenes().
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sacrebleu
import torch
from torch import nn

from seqserve.models.captioner import BOS_ID, EOS_ID, PAD_ID, SPECIALS, Captioner, CaptionerConfig
from seqserve.models.data.scenes import Scene, caption_words, held_out_scenes, train_scenes

CHECKPOINT = "captioner.pt"
VOCAB = "vocab.json"
METRICS = "metrics.json"
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


@dataclass
class CaptionerTrainConfig:
    out: Path
    train_scenes: int = 3000
    """Scenes rendered per epoch (fresh ones every epoch)."""
    test_scenes: int = 300
    epochs: int = 40
    max_minutes: float = 4.0
    seed: int = 1234
    batch_size: int = 64
    lr: float = 3e-3
    threads: int = 2
    memory_dim: int = 64
    hidden: int = 128


@dataclass
class CaptionerRun:
    out: Path
    test_bleu: float
    epochs: list[dict[str, float]] = field(default_factory=list)


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 [B,H,W,3] -> float32 [B,3,H,W], as config.yaml tells the server."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    mean = np.array(MEAN, np.float32).reshape(1, 3, 1, 1)
    std = np.array(STD, np.float32).reshape(1, 3, 1, 1)
    return (x - mean) / std


def _batch(scenes: list[Scene], ids: dict[str, int]) -> tuple[torch.Tensor, ...]:
    images = torch.from_numpy(normalise(np.stack([s.image for s in scenes])))
    encoded = [[ids[w] for w in s.caption.split()] for s in scenes]
    width = max(len(e) for e in encoded) + 1
    tgt_in = torch.full((len(scenes), width), PAD_ID, dtype=torch.long)
    tgt_out = torch.full((len(scenes), width), -100, dtype=torch.long)
    for row, e in enumerate(encoded):
        tgt_in[row, : len(e) + 1] = torch.tensor([BOS_ID, *e])
        tgt_out[row, : len(e) + 1] = torch.tensor([*e, EOS_ID])
    return images, tgt_in, tgt_out


@torch.no_grad()
def greedy_captions(model: Captioner, images: np.ndarray, words: list[str],
                    max_len: int = 16) -> list[str]:
    model.eval()
    memory, h, c = model.encode_images(torch.from_numpy(normalise(images)))
    mask = torch.ones(memory.shape[:2], dtype=torch.bool)
    prev = torch.full((len(images),), BOS_ID, dtype=torch.long)
    out: list[list[int]] = [[] for _ in images]
    done = torch.zeros(len(images), dtype=torch.bool)
    for _ in range(max_len):
        logits, h, c, _ = model.decode_step(prev, h, c, memory, mask)
        prev = logits.argmax(dim=-1)
        for row in range(len(images)):
            if not done[row] and int(prev[row]) != EOS_ID:
                out[row].append(int(prev[row]))
        done |= prev == EOS_ID
        if bool(done.all()):
            break
    return [" ".join(words[i] for i in ids) for ids in out]


def bleu(hypotheses: list[str], references: list[str]) -> float:
    return float(sacrebleu.corpus_bleu(hypotheses, [references]).score)


def train_captioner(config: CaptionerTrainConfig) -> CaptionerRun:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    words = [*SPECIALS, *caption_words()]
    ids = {w: i for i, w in enumerate(words)}
    (out / VOCAB).write_text(json.dumps(words))
    model = Captioner(CaptionerConfig(len(words), memory_dim=config.memory_dim,
                                      hidden=config.hidden))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    held_out = held_out_scenes(config.test_scenes)
    test_images = np.stack([s.image for s in held_out])
    references = [s.caption for s in held_out]
    started, best, history = time.monotonic(), -1.0, []
    for epoch in range(1, config.epochs + 1):
        model.train()
        scenes = train_scenes(config.train_scenes, config.seed * 1000 + epoch)
        total = 0.0
        for start in range(0, len(scenes), config.batch_size):
            images, tgt_in, tgt_out = _batch(scenes[start : start + config.batch_size], ids)
            logits = model(images, tgt_in)
            loss = loss_fn(logits.reshape(-1, len(words)), tgt_out.reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            total += loss.item() * len(images)
        score = bleu(greedy_captions(model, test_images, words), references)
        history.append({"epoch": epoch, "train_loss": total / len(scenes),
                        "test_bleu_greedy": score,
                        "seconds": round(time.monotonic() - started, 1)})
        if score > best:
            best = score
            _save(out / CHECKPOINT, model, config)
        if time.monotonic() - started > config.max_minutes * 60:
            break
    metrics = {"held_out_pairs": "see models/data/scenes.py HELD_OUT",
               "test_scenes": len(held_out), "best_test_bleu_greedy": best, "epochs": history}
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
    return CaptionerRun(out, best, history)


def _save(path: Path, model: Captioner, config: CaptionerTrainConfig) -> None:
    state: dict[str, Any] = {
        "model_state": model.state_dict(), "model_config": model.config_dict(),
        "preprocessing": {"mean": list(MEAN), "std": list(STD)},
        "train_config": {k: str(v) if isinstance(v, Path) else v
                         for k, v in asdict(config).items()},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_captioner(run: Path) -> tuple[Captioner, list[str], dict[str, Any]]:
    state = torch.load(Path(run) / CHECKPOINT, map_location="cpu", weights_only=False)
    model = Captioner.from_config(state["model_config"])
    model.load_state_dict(state["model_state"])
    model.eval()
    return model, json.loads((Path(run) / VOCAB).read_text()), state
