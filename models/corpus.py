"""Corpus specs (`libreoffice`, `numbers`, `tsv:PATH`), their splits and size presets."""

from __future__ import annotations

from dataclasses import dataclass

from seqserve.models.data import (
    Splits,
    clean_pairs,
    load_libreoffice,
    number_pairs,
    read_tsv,
    split_pairs,
)


@dataclass(frozen=True)
class Preset:
    """Defaults that fit a corpus on a 2-core CPU; every field can be overridden."""

    vocab_size: int
    emb: int
    hidden: int
    layers: int
    batch_size: int
    lr: float
    dropout: float
    max_tokens: int
    epochs: int
    max_minutes: float
    test_size: int
    valid_size: int


PRESETS: dict[str, Preset] = {
    # ~32k pairs; ~7 minutes of training gets a usable (not good) translator.
    "libreoffice": Preset(
        vocab_size=6000,
        emb=256,
        hidden=256,
        layers=1,
        batch_size=64,
        lr=2e-3,
        dropout=0.1,
        max_tokens=50,
        epochs=30,
        max_minutes=7.0,
        test_size=1000,
        valid_size=500,
    ),
    # 10k numbers; 2 epochs (~40 s) reach ~99% exact match on the 1000 held-out numbers.
    "numbers": Preset(
        vocab_size=200,
        emb=64,
        hidden=128,
        layers=1,
        batch_size=64,
        lr=3e-3,
        dropout=0.0,
        max_tokens=40,
        epochs=3,
        max_minutes=1.5,
        test_size=1000,
        valid_size=200,
    ),
    # User files: sizes of the LibreOffice preset, held-out sizes scaled to the file.
    "tsv": Preset(
        vocab_size=8000,
        emb=256,
        hidden=256,
        layers=1,
        batch_size=64,
        lr=2e-3,
        dropout=0.2,
        max_tokens=50,
        epochs=20,
        max_minutes=60.0,
        test_size=1000,
        valid_size=500,
    ),
}


def corpus_kind(spec: str) -> str:
    """'libreoffice' | 'numbers' | 'tsv' for a spec; ValueError names bad specs."""
    if spec in ("libreoffice", "numbers"):
        return spec
    if spec.startswith("tsv:") and len(spec) > 4:
        return "tsv"
    raise ValueError(f"unknown corpus {spec!r}: expected libreoffice, numbers or tsv:PATH")


def load_splits(spec: str, seed: int) -> Splits:
    """Load a corpus and hold out its deterministic test and validation splits."""
    kind = corpus_kind(spec)
    preset = PRESETS[kind]
    if kind == "libreoffice":
        pairs = load_libreoffice()
    elif kind == "numbers":
        # No cleaning: a word that is the same in both languages ("six") is still
        # part of the task, and every number must stay for a fair held-out split.
        pairs = number_pairs()
    else:
        pairs = clean_pairs(read_tsv(spec[4:]), max_words=10_000)
    test_size, valid_size = preset.test_size, preset.valid_size
    if kind == "tsv":
        # Small user files still keep most pairs for training.
        test_size = min(test_size, max(1, len(pairs) // 10))
        valid_size = min(valid_size, max(1, len(pairs) // 20))
    return split_pairs(pairs, test_size=test_size, valid_size=valid_size, seed=seed)
