"""Input batches for the graphs: the export examples and the parity cases.

Batches look like the engine's: source rows padded with pad_id and lengths in
[1, S] (with at least one full-length row, as the engine pads to the longest),
hypothesis rows of one request contiguous, and each request's mask True on its
first `length` positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqserve.export.contract import Seq2SeqModule
from seqserve.server.repository.config import Seq2SeqTensors

Batch = dict[str, np.ndarray]


@dataclass(frozen=True)
class ModelDims:
    """Static sizes of a module, read by running it once."""

    layers: int
    """L of the state tensors."""
    hidden: int
    """H of the state tensors."""
    memory_dim: int
    """M of the encoder memory."""
    target_vocab: int
    """V of decode_step's logits."""
    source_vocab: int

    def values(self) -> set[int]:
        return {self.layers, self.hidden, self.memory_dim, self.target_vocab, self.source_vocab}


@torch.no_grad()
def probe_dims(module: Seq2SeqModule, source_vocab: int) -> ModelDims:
    tokens = torch.tensor([[min(4, source_vocab - 1)] * 2])
    memory, h, _ = module.encode(tokens, torch.tensor([2]))
    logits, *_ = module.decode_step(
        torch.tensor([1]), h, torch.zeros_like(h), memory, torch.ones(1, 2, dtype=torch.bool)
    )
    return ModelDims(h.shape[0], h.shape[2], memory.shape[2], logits.shape[-1], source_vocab)


def _lengths(rng: np.random.Generator, count: int, max_len: int) -> np.ndarray:
    """Random lengths in [1, max_len] with the extremes present when count allows."""
    lengths = rng.integers(1, max_len + 1, size=count)
    lengths[0] = max_len
    if count > 1:
        lengths[-1] = 1
    return lengths


def encoder_batch(
    t: Seq2SeqTensors,
    rng: np.random.Generator,
    batch: int,
    src_len: int,
    source_vocab: int,
    pad_id: int = 0,
) -> Batch:
    lengths = _lengths(rng, batch, src_len)
    # Ids from 1 up: 0 is padding; EOS-like and UNK ids are valid inputs too.
    tokens = rng.integers(1, source_vocab, size=(batch, src_len))
    tokens[np.arange(src_len)[None, :] >= lengths[:, None]] = pad_id
    return {t.src_tokens: tokens.astype(np.int64), t.src_lengths: lengths.astype(np.int64)}


def decoder_batch(
    t: Seq2SeqTensors,
    rng: np.random.Generator,
    dims: ModelDims,
    rows: int,
    requests: int,
    src_len: int,
    k: int,
) -> Batch:
    if rows < requests:
        raise ValueError(f"every request needs a row: rows={rows} < requests={requests}")
    # Each request gets one row, the rest are spread at random; sorting keeps a
    # request's rows contiguous, as the engine lays them out.
    extra = rng.integers(0, requests, size=rows - requests)
    memory_index = np.sort(np.concatenate([np.arange(requests), extra]))
    lengths = _lengths(rng, requests, src_len)
    mask = np.arange(src_len)[None, :] < lengths[:, None]
    state_shape = (dims.layers, rows, dims.hidden)
    return {
        t.prev_tokens: rng.integers(0, dims.target_vocab, size=rows).astype(np.int64),
        t.h: (0.5 * rng.standard_normal(state_shape)).astype(np.float32),
        t.c: rng.standard_normal(state_shape).astype(np.float32),
        t.memory: rng.standard_normal((requests, src_len, dims.memory_dim)).astype(np.float32),
        t.memory_mask: mask,
        t.memory_index: memory_index.astype(np.int64),
        t.k: np.array([k], dtype=np.int64),
    }


def to_torch(batch: Batch, names: list[str]) -> tuple[torch.Tensor, ...]:
    """The batch as positional torch arguments in graph-input order."""
    return tuple(torch.from_numpy(np.ascontiguousarray(batch[n])) for n in names)
