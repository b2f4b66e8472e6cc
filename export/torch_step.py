"""The PyTorch module as a step function for the reference beam search.

Deliberately unlike the served path: each sentence is encoded alone (no
padding), memory is copied per hypothesis, and the step returns log_softmax
over the FULL vocabulary (no TopK). If the served graphs' gather, masking or
TopK were wrong, the two paths would disagree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.reference_beam import BeamOptions, RefHypothesis, StepFn, beam_search


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread, then restore the setting.

    Reference steps are a few rows each: extra threads only add synchronisation,
    and on a shared 2-core machine a busy sibling thread made each tiny LSTM call
    ~40x slower (93 ms instead of 2 ms).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


State = tuple[torch.Tensor, torch.Tensor]
"""One hypothesis' (h [L,H], c [L,H])."""


@torch.no_grad()
def sentence_step(module: Seq2SeqModule, src_ids: Sequence[int]) -> tuple[StepFn, State]:
    """Encode one sentence; return its step function and the initial state."""
    if not src_ids:
        raise ValueError("cannot decode an empty source sentence")
    tokens = torch.tensor([list(src_ids)], dtype=torch.int64)
    memory, h, c = module.encode(tokens, torch.tensor([len(src_ids)], dtype=torch.int64))
    mask = torch.ones(1, len(src_ids), dtype=torch.bool)

    @torch.no_grad()
    def step(prev_tokens: Sequence[int], states: Sequence[State]) -> tuple[np.ndarray, list[State]]:
        n = len(prev_tokens)
        h_in = torch.stack([s[0] for s in states], dim=1)
        c_in = torch.stack([s[1] for s in states], dim=1)
        logits, h_out, c_out, _ = module.decode_step(
            torch.tensor(list(prev_tokens), dtype=torch.int64),
            h_in,
            c_in,
            memory.expand(n, -1, -1).contiguous(),
            mask.expand(n, -1).contiguous(),
        )
        logprobs = torch.log_softmax(logits.float(), dim=-1).numpy()
        return logprobs, [(h_out[:, i].clone(), c_out[:, i].clone()) for i in range(n)]

    return step, (h[:, 0].clone(), c[:, 0].clone())


def reference_decode(
    module: Seq2SeqModule, src_ids: Sequence[int], options: BeamOptions
) -> list[RefHypothesis]:
    """Reference beam search of one source sentence with the PyTorch module."""
    with single_thread():
        step, init = sentence_step(module, src_ids)
        return beam_search(step, init, options)
