"""The nn.Modules that become the served graphs, wrapping a user's Seq2SeqModule.

The decoder wrapper adds what the contract puts inside the graph and the user's
module does not know about: the per-row gather of encoder memory (memory is
stored once per request and indexed by `memory_index`, never copied per beam),
log_softmax over the full vocabulary and a sorted TopK of `k` candidates.
The same wrappers are run in eager mode by parity checks, so ORT is compared
with exactly the function that was exported.
"""

from __future__ import annotations

import torch
from torch import nn

from seqserve.export.contract import Seq2SeqModule


class EncoderGraph(nn.Module):
    """(src_tokens, src_lengths) -> (memory, init_h, init_c)."""

    def __init__(self, module: Seq2SeqModule) -> None:
        super().__init__()
        self.module = module

    def forward(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.module.encode(src_tokens, src_lengths)


class DecoderStepGraph(nn.Module):
    """One decode step for N hypothesis rows of R requests.

    `k_as_item` picks how the runtime `k` reaches torch.topk: the dynamo exporter
    needs `.item()` (an unbacked symbolic int, bounded by torch._check), while
    the legacy tracer records `k[0]` as a tensor and so keeps it a graph input.
    Eager results are identical either way.
    """

    def __init__(self, module: Seq2SeqModule, *, k_as_item: bool = True) -> None:
        super().__init__()
        self.module = module
        self.k_as_item = k_as_item

    def forward(
        self,
        prev_tokens: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        memory_index: torch.Tensor,
        k: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        # index_select is a plain ONNX Gather on axis 0: rows of one request
        # read the same memory without a per-beam copy in the served state.
        row_memory = memory.index_select(0, memory_index)
        row_mask = memory_mask.index_select(0, memory_index)
        logits, h_out, c_out, attention = self.module.decode_step(
            prev_tokens, h, c, row_memory, row_mask
        )
        # log_softmax in float32 over the full vocabulary, before TopK, so the
        # returned scores are true log probabilities, not top-k renormalised.
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        if self.k_as_item:
            k_value = k[0].item()
            torch._check(k_value >= 1)
            torch._check(k_value <= logprobs.shape[-1])
        else:
            k_value = k[0]
        topk_logprobs, topk_ids = torch.topk(logprobs, k_value, dim=-1, largest=True, sorted=True)
        return topk_logprobs, topk_ids, h_out, c_out, attention
