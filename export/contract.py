"""The PyTorch side of the decoder-step contract (see server/repository/config.py).

A user's seq2seq module exports with one call (`export_seq2seq`) when it has:

    encode(src_tokens: int64[B,S], src_lengths: int64[B])
        -> (memory float[B,S,M], init_h float[L,B,H], init_c float[L,B,H])
    decode_step(prev_tokens: int64[N], h: float[L,N,H], c: float[L,N,H],
                memory: float[N,S,M], memory_mask: bool[N,S])
        -> (logits float[N,V], h_out float[L,N,H], c_out float[L,N,H], attention float[N,S])

`memory_mask` is True on real source positions, False on padding. The exporter
wraps decode_step with the memory gather (per-request memory, indexed by
rows), log_softmax and TopK, so the served graph returns only k candidates.
"""

from __future__ import annotations

from typing import Protocol

import torch


class Seq2SeqModule(Protocol):
    def encode(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def decode_step(
        self,
        prev_tokens: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]: ...
