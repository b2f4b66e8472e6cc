"""The decoder step of models/seq2seq.Seq2Seq as plain MatMuls and fused gates.

The generic wrapper (wrappers.DecoderStepGraph) exports the module's own
decode_step, whose one-step nn.LSTM becomes an ONNX LSTM node. At one time step
that node is a poor kernel: it runs its input and recurrent products as two
separate GEMMs plus its own gate loop. Here each layer's step is one MatMul of
[x, h] with the stacked [W_ih | W_hh] weights, one bias add and the gates as
element-wise ops; the attention, combine and output layers are 2-D Gemms with
their bias fused (the generic graph's [N,1,H] tensors give MatMul + Add).

Same inputs, outputs and contract as DecoderStepGraph: the export's parity
check compares this graph with DecoderStepGraph run in PyTorch, at the
unchanged tolerance, and the engine sees no difference but speed.
"""

from __future__ import annotations

import torch
from torch import nn

from seqserve.models.attention import MASK_VALUE, GeneralAttention
from seqserve.models.seq2seq import Seq2Seq


def supports_fused_step(module: object) -> bool:
    """True for models/seq2seq.Seq2Seq itself (its decode_step not overridden: this
    form re-implements exactly that one) with a plain batch-first nn.LSTM; every other
    module keeps the generic graph."""
    lstm = getattr(module, "decoder_lstm", None)
    attention = getattr(module, "attention", None)
    return (
        isinstance(module, Seq2Seq)
        and all(getattr(type(module), f) is getattr(Seq2Seq, f)
                for f in ("decode_step", "_attentional", "_logits"))
        and isinstance(attention, GeneralAttention)
        and type(attention).forward is GeneralAttention.forward
        and isinstance(lstm, nn.LSTM)
        and lstm.batch_first
        and not lstm.bidirectional
        and lstm.proj_size == 0
        and lstm.bias
        and isinstance(getattr(module, "tgt_embedding", None), nn.Embedding)
        and isinstance(getattr(attention, "proj", None), nn.Linear)
        and isinstance(getattr(module, "combine", None), nn.Linear)
        and isinstance(getattr(module, "output", None), nn.Linear)
    )


class FusedDecoderStepGraph(nn.Module):
    """One decode step for N rows of R requests; see the module docstring."""

    def __init__(self, module: nn.Module, *, k_as_item: bool = True) -> None:
        super().__init__()
        if not supports_fused_step(module):
            raise TypeError(f"{type(module).__name__} has no Seq2Seq decoder layout")
        lstm: nn.LSTM = module.decoder_lstm  # type: ignore[assignment]
        self.layers = lstm.num_layers
        self.hidden = lstm.hidden_size
        self.embedding = module.tgt_embedding
        self.attention_proj = module.attention.proj
        self.combine = module.combine
        self.output = module.output
        self.k_as_item = k_as_item
        # [4H, in + H] per layer: x and h multiply one stacked weight in one MatMul.
        # Stored transposed ([in + H, 4H]) so the graph's MatMul needs no Transpose.
        for layer in range(self.layers):
            w_ih = getattr(lstm, f"weight_ih_l{layer}").detach()
            w_hh = getattr(lstm, f"weight_hh_l{layer}").detach()
            bias = (getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))
            self.register_buffer(f"gates_w{layer}", torch.cat([w_ih, w_hh], 1).t().contiguous())
            self.register_buffer(f"gates_b{layer}", bias.detach().clone())

    def _lstm_step(
        self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h_out, c_out = [], []
        for layer in range(self.layers):
            weight = getattr(self, f"gates_w{layer}")
            bias = getattr(self, f"gates_b{layer}")
            gates = torch.cat([x, h[layer]], dim=-1) @ weight + bias
            # nn.LSTM's gate order: input, forget, cell, output.
            i, f, g, o = gates.chunk(4, dim=-1)
            c_new = torch.sigmoid(f) * c[layer] + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            h_out.append(h_new)
            c_out.append(c_new)
            x = h_new
        return x, torch.stack(h_out), torch.stack(c_out)

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
        top, h_out, c_out = self._lstm_step(self.embedding(prev_tokens), h, c)
        # The per-row memory gather stays (one Gather on axis 0, as in the generic graph).
        row_memory = memory.index_select(0, memory_index)
        row_mask = memory_mask.index_select(0, memory_index)
        query = self.attention_proj(top)  # [N, M]
        scores = torch.bmm(row_memory, query.unsqueeze(2)).squeeze(2)  # [N, S]
        scores = scores.masked_fill(~row_mask, MASK_VALUE)
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), row_memory).squeeze(1)  # [N, M]
        attentional = torch.tanh(self.combine(torch.cat([top, context], dim=-1)))
        logits = self.output(attentional).float()
        if self.k_as_item:
            k_value = k[0].item()
            torch._check(k_value >= 1)
            torch._check(k_value <= logits.shape[-1])
        else:
            k_value = k[0]
        # log_softmax then TopK, as the generic graph: ORT's LogSoftmax is one fast
        # pass, while TopK on the logits plus ReduceLogSumExp for the shift measured
        # 31% of the step at 128 rows (ReduceLogSumExp is a slow kernel).
        logprobs = torch.log_softmax(logits, dim=-1)
        topk_logprobs, topk_ids = torch.topk(logprobs, k_value, dim=-1, largest=True,
                                             sorted=True)
        return topk_logprobs, topk_ids, h_out, c_out, weights
