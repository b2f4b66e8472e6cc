"""The Seq2Seq decoder step with attention run per request, not per row.

The generic wrapper (wrappers.DecoderStepGraph) gathers each row's encoder
memory, memory[memory_index] -> [N, S, M], before the module's own attention:
at 128 rows and S=30 that copies 7.9 MB per step (8% of the en-fr step). Here
the memory is never copied. The rows' small attention queries [N, M'] are
placed in a padded per-request layout [R, B, M'] (B = the most rows any request
has; a padding slot reads row 0 and its result is never used), both attention
products are batched matmuls against memory [R, S, M'] as it came in, and the
contexts and weights are gathered back to rows. Rows may come in any order:
each row's slot within its request is counted by a cumulative sum, so nothing
relies on the scheduler's layout.

The LSTM stays the module's nn.LSTM (ORT's LSTM node: at one step it measured
faster than MatMul + gates, fused_step.py), and the attention, combine and
output layers run on 2-D tensors so their bias is fused into one Gemm instead
of MatMul + Add on [N, 1, *].

The attention keys are precomputed per request at encode time: Luong's
score proj(q) . m equals q . (m W), so the encoder graph of this form
(KeyedEncoderGraph) serves memory' = [memory | memory W], [R, S, M + H], and
the step needs no query projection (a [N, H] x [H, M] Gemm per step, 6% of
it at 128 rows). To read the keys half of memory' without a Slice copy, the
step's query is [0 | top] over the whole width (M zero columns: as many
multiply-adds as the unkeyed score product, against the Gemm it saves); the
context likewise is weights x memory', and only the rows' [N, M + H] result is
sliced to [N, M]. The engine treats memory as opaque [S, M'] per sentence and
probes M' from the encoder, so it sees no difference.

Same inputs, outputs and contract as DecoderStepGraph; the export's parity check
compares this graph with DecoderStepGraph run in PyTorch at the unchanged
tolerance. B is a data-dependent size, which only the dynamo exporter can keep
symbolic (an unbacked int, bounded by torch._check), so step_form.py uses
this step with dynamo only (legacy: KeyedGenericStepGraph over the same memory').
The engine never steps zero rows (it only steps live sentences); this graph
needs N >= 1.
"""

from __future__ import annotations

import torch
from torch import nn

from seqserve.export.fused_step import supports_fused_step
from seqserve.export.wrappers import DecoderStepGraph
from seqserve.models.attention import MASK_VALUE


def with_keys(proj: nn.Linear, memory: torch.Tensor) -> torch.Tensor:
    """memory [.., S, M] -> memory' [.., S, M + H]: the memory and its attention keys."""
    return torch.cat([memory, memory @ proj.weight], dim=-1)


class KeyedEncoderGraph(nn.Module):
    """(src_tokens, src_lengths) -> (memory' = [memory | keys], init_h, init_c)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        if not supports_fused_step(module):
            raise TypeError(f"{type(module).__name__} has no Seq2Seq decoder layout")
        self.module = module
        self.proj = module.attention.proj

    def forward(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        memory, h, c = self.module.encode(src_tokens, src_lengths)  # type: ignore[operator]
        return with_keys(self.proj, memory), h, c


class KeyedGenericStepGraph(nn.Module):
    """The generic step (memory gather, the module's decode_step) over memory': the
    legacy exporter's fallback, which cannot keep the padded width symbolic."""

    def __init__(self, module: nn.Module, *, k_as_item: bool) -> None:
        super().__init__()
        self.memory_dim = module.attention.proj.out_features
        self.step = DecoderStepGraph(module, k_as_item=k_as_item)  # type: ignore[arg-type]

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
        return self.step(prev_tokens, h, c, memory[..., : self.memory_dim], memory_mask,
                         memory_index, k)


class RequestAttentionStepGraph(nn.Module):
    """One decode step for N rows of R requests; see the module docstring."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        if not supports_fused_step(module):
            raise TypeError(f"{type(module).__name__} has no Seq2Seq decoder layout")
        self.embedding = module.tgt_embedding
        self.lstm = module.decoder_lstm
        self.memory_dim = module.attention.proj.out_features
        self.combine = module.combine
        self.output = module.output

    @staticmethod
    def padded_layout(memory_index: torch.Tensor, requests: int) -> tuple[torch.Tensor, int]:
        """-> (slot of each row in [R * B] (row-major by request), B).

        slot[n] = memory_index[n] * B + (rows of the same request before row n)."""
        request_ids = torch.arange(requests, dtype=memory_index.dtype)
        member = (memory_index.unsqueeze(1) == request_ids.unsqueeze(0)).to(torch.int64)
        seen = member.cumsum(0)  # [N, R]: rows of each request up to and including n
        rank = seen.gather(1, memory_index.unsqueeze(1)).squeeze(1) - 1
        width = seen[-1].max().item()
        torch._check(width >= 1)
        torch._check(width <= memory_index.shape[0])
        return memory_index * width + rank, width

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
        x = self.embedding(prev_tokens.unsqueeze(1))  # [N, 1, E]
        top, (h_out, c_out) = self.lstm(x, (h, c))
        top = top.squeeze(1)  # [N, H]
        # [0 | top]: its product with memory' [m | m W] is the score top . (m W).
        query = torch.cat([top.new_zeros(top.shape[0], self.memory_dim), top], dim=-1)
        requests, rows = memory.shape[0], memory_index.shape[0]
        slot, width = self.padded_layout(memory_index, requests)
        # Which row fills each padded slot: the row itself, or row 0 for padding.
        filler = torch.zeros(requests * width, dtype=torch.int64).scatter(
            0, slot, torch.arange(rows, dtype=torch.int64))
        padded_query = query.index_select(0, filler).view(requests, width, -1)  # [R, B, M']
        scores = torch.bmm(padded_query, memory.transpose(1, 2))  # [R, B, S]
        scores = scores.masked_fill(~memory_mask.unsqueeze(1), MASK_VALUE)
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights, memory)  # [R, B, M']: [context | unused]
        row_weights = weights.reshape(requests * width, -1).index_select(0, slot)  # [N, S]
        row_context = context.reshape(requests * width, -1).index_select(0, slot)
        row_context = row_context[:, : self.memory_dim]  # [N, M]
        attentional = torch.tanh(self.combine(torch.cat([top, row_context], dim=-1)))
        logits = self.output(attentional).float()
        k_value = k[0].item()
        torch._check(k_value >= 1)
        torch._check(k_value <= logits.shape[-1])
        logprobs = torch.log_softmax(logits, dim=-1)
        topk_logprobs, topk_ids = torch.topk(logprobs, k_value, dim=-1, largest=True,
                                             sorted=True)
        return topk_logprobs, topk_ids, h_out, c_out, row_weights
