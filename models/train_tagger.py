"""Training a BiLSTM tagger on CoNLL-U data; the run directory export/ reads.

    OUT/tagger.pt     model state, dims, training config
    OUT/vocab.json    words, characters, labels (server/repository/tag_vocab.py)
    OUT/test.jsonl    the held-out test split (tokens, tags), for export's accuracy
    OUT/metrics.json  per-epoch loss / validation accuracy, test accuracy

The checkpoint kept is the one with the best validation accuracy; training
stops at `epochs` or at the `max_minutes` budget, whichever comes first.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqserve.models.data.conllu_data import TaggedSentence, load_splits
from seqserve.models.tagger import BiLSTMTagger, TaggerDims
from seqserve.server.repository.tag_vocab import SPECIALS, UNK, TagVocab

CHECKPOINT = "tagger.pt"
VOCAB = "vocab.json"
TEST = "test.jsonl"
METRICS = "metrics.json"


@dataclass
class TaggerTrainConfig:
    out: Path
    data: str = "turkish-treebanks"
    """`turkish-treebanks`, a directory of .conllu files, or comma-separated files."""
    epochs: int = 15
    max_minutes: float = 3.0
    seed: int = 1234
    batch_size: int = 32
    lr: float = 3e-3
    min_word_count: int = 2
    """Words seen fewer times share UNK (the char CNN still sees them)."""
    word_dropout: float = 0.05
    """Share of training tokens replaced by UNK, so UNK is learnt."""
    max_chars: int = 16
    word_emb: int = 96
    char_emb: int = 32
    char_filters: int = 64
    hidden: int = 128
    dropout: float = 0.33
    max_train_sentences: int | None = None
    """Cap the training split (tests train a tiny model quickly)."""
    threads: int = 2


@dataclass
class TaggerRun:
    out: Path
    test_accuracy: float
    epochs: list[dict[str, float]] = field(default_factory=list)


def build_vocab(train: Sequence[TaggedSentence], min_count: int, max_chars: int) -> TagVocab:
    words = Counter(t.lower() for s in train for t in s.tokens)
    chars = Counter(ch for s in train for t in s.tokens for ch in t)
    labels = sorted({tag for s in train for tag in s.tags})
    return TagVocab(
        [*SPECIALS, *sorted(w for w, n in words.items() if n >= min_count)],
        [*SPECIALS, *sorted(chars)],
        labels, lowercase=True, max_chars=max_chars,
    )


def _batches(
    data: Sequence[TaggedSentence], size: int, rng: random.Random | None
) -> Iterator[list[TaggedSentence]]:
    """Similar lengths together (less padding); batch order shuffled when training."""
    order = list(data)
    if rng is not None:
        rng.shuffle(order)
    pool = size * 20
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda s: len(s.tokens))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    if rng is not None:
        rng.shuffle(batches)
    yield from batches


def _tensors(vocab: TagVocab, batch: Sequence[TaggedSentence]) -> tuple[torch.Tensor, ...]:
    tokens, chars, lengths = vocab.batch([s.tokens for s in batch])
    label_ids = {label: i for i, label in enumerate(vocab.labels)}
    targets = torch.full(tokens.shape, -100, dtype=torch.long)
    for row, sentence in enumerate(batch):
        # A label unseen in training cannot be predicted; count it wrong, never crash.
        ids = [label_ids.get(t, -1) for t in sentence.tags]
        targets[row, : len(ids)] = torch.tensor(ids)
    return torch.from_numpy(tokens), torch.from_numpy(chars), torch.from_numpy(lengths), targets


@torch.no_grad()
def accuracy(model: BiLSTMTagger, vocab: TagVocab, data: Sequence[TaggedSentence]) -> float:
    model.eval()
    correct = total = 0
    for batch in _batches(data, 64, None):
        tokens, chars, lengths, targets = _tensors(vocab, batch)
        predicted = model(tokens, chars, lengths).argmax(dim=2)
        real = targets != -100
        correct += int(((predicted == targets) & real).sum())
        total += int(real.sum())
    return correct / max(total, 1)


def train_tagger(config: TaggerTrainConfig) -> TaggerRun:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = load_splits(config.data, seed=config.seed)
    train = splits.train[: config.max_train_sentences or None]
    vocab = build_vocab(train, config.min_word_count, config.max_chars)
    vocab.save(out / VOCAB)
    with open(out / TEST, "w", encoding="utf-8") as f:
        for s in splits.test:
            f.write(json.dumps({"tokens": s.tokens, "tags": s.tags}, ensure_ascii=False) + "\n")
    dims = TaggerDims(
        len(vocab.words), len(vocab.chars), len(vocab.labels), config.word_emb, config.char_emb,
        config.char_filters, config.hidden, config.dropout,
    )
    model = BiLSTMTagger(dims)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    started = time.monotonic()
    best, history = -1.0, []
    for epoch in range(1, config.epochs + 1):
        model.train()
        total = 0.0
        for batch in _batches(train, config.batch_size, rng):
            tokens, chars, lengths, targets = _tensors(vocab, batch)
            drop = (torch.rand(tokens.shape) < config.word_dropout) & (tokens > UNK)
            tokens = tokens.masked_fill(drop, UNK)
            logits = model(tokens, chars, lengths)
            loss = loss_fn(logits.reshape(-1, dims.labels), targets.reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            total += loss.item() * len(batch)
        valid = accuracy(model, vocab, splits.valid)
        history.append({"epoch": epoch, "train_loss": total / len(train), "valid_accuracy": valid,
                        "seconds": round(time.monotonic() - started, 1)})
        if valid > best:
            best = valid
            _save(out / CHECKPOINT, model, dims, config)
        if time.monotonic() - started > config.max_minutes * 60:
            break
    state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model_state"])
    test = accuracy(model, vocab, splits.test)
    metrics = {"data": config.data, "train_sentences": len(train),
               "test_sentences": len(splits.test), "best_valid_accuracy": best,
               "test_accuracy": test, "epochs": history}
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
    return TaggerRun(out, test, history)


def _save(path: Path, model: BiLSTMTagger, dims: TaggerDims, config: TaggerTrainConfig) -> None:
    state: dict[str, Any] = {
        "model_state": model.state_dict(), "dims": dims.to_dict(),
        "train_config": {k: str(v) if isinstance(v, Path) else v
                         for k, v in asdict(config).items()},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_tagger(run: Path) -> tuple[BiLSTMTagger, TagVocab, dict[str, Any]]:
    """(model in eval mode, vocab, checkpoint state) of a run directory."""
    state = torch.load(Path(run) / CHECKPOINT, map_location="cpu", weights_only=False)
    model = BiLSTMTagger.from_config(state["dims"])
    model.load_state_dict(state["model_state"])
    model.eval()
    max_chars = int(state["train_config"].get("max_chars", 16))
    return model, TagVocab.load(Path(run) / VOCAB, max_chars=max_chars), state
