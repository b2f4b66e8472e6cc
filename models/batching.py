"""Turn sentence pairs into padded, length-bucketed training batches."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import sentencepiece as spm
import torch

from seqserve.models.data.pairs import Pair
from seqserve.models.seq2seq import PAD_ID
from seqserve.models.tokenizer import (
    decoder_input,
    decoder_target,
    encode_source,
    encode_target,
)

Example = tuple[list[int], list[int]]
"""(source ids ending with EOS, target ids without specials)."""


@dataclass(frozen=True)
class Batch:
    src: torch.Tensor  # int64 [B,S], PAD after each row's length
    src_lengths: torch.Tensor  # int64 [B]
    tgt_in: torch.Tensor  # int64 [B,T], BOS + target, PAD after
    tgt_out: torch.Tensor  # int64 [B,T], target + EOS, PAD after (ignored by the loss)

    @property
    def size(self) -> int:
        return int(self.src.shape[0])


def encode_pairs(
    pairs: Sequence[Pair],
    source_sp: spm.SentencePieceProcessor,
    target_sp: spm.SentencePieceProcessor,
    max_tokens: int | None = None,
) -> list[Example]:
    """Encode pairs; drop those longer than max_tokens on either side (EOS/BOS counted)."""
    examples: list[Example] = []
    for src_text, tgt_text in pairs:
        src = encode_source(source_sp, src_text)
        tgt = encode_target(target_sp, tgt_text)
        if max_tokens is not None and (len(src) > max_tokens or len(tgt) + 1 > max_tokens):
            continue
        examples.append((src, tgt))
    return examples


def _pad(rows: list[list[int]]) -> torch.Tensor:
    out = torch.full((len(rows), max(len(r) for r in rows)), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def collate(examples: Sequence[Example]) -> Batch:
    return Batch(
        src=_pad([src for src, _ in examples]),
        src_lengths=torch.tensor([len(src) for src, _ in examples], dtype=torch.long),
        tgt_in=_pad([decoder_input(tgt) for _, tgt in examples]),
        tgt_out=_pad([decoder_target(tgt) for _, tgt in examples]),
    )


def bucketed_batches(examples: Sequence[Example], batch_size: int, seed: int) -> list[list[int]]:
    """Index lists of batches of similar length, in a seeded random order.

    Sorting by length (with random tie-breaking) keeps padding small, which matters
    more than anything else for CPU speed; shuffling the batch order keeps the
    gradient from seeing short sentences first and long ones last every epoch.
    """
    rng = random.Random(seed)
    keys = [(len(src), len(tgt), rng.random()) for src, tgt in examples]
    order = sorted(range(len(examples)), key=keys.__getitem__)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches
