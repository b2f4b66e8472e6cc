"""A tiny module implementing export/contract.py, independent of models/.

Unidirectional LSTM encoder (padding cannot leak into real positions), a
length-masked mean as the bridge to the decoder state, dot attention with a
masked softmax. `sharpness` scales the logits so that greedy and beam choices
are not near-ties (a random init is otherwise almost uniform).
"""

from __future__ import annotations

import torch
from torch import nn


class TinySeq2Seq(nn.Module):
    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        emb: int = 8,
        hidden: int = 12,
        layers: int = 2,
        sharpness: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.layers = layers
        self.src_emb = nn.Embedding(src_vocab, emb, padding_idx=0)
        self.enc = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)
        self.bridge = nn.Linear(hidden, hidden)
        self.tgt_emb = nn.Embedding(tgt_vocab, emb, padding_idx=0)
        self.dec = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(2 * hidden, tgt_vocab)
        with torch.no_grad():
            self.out.weight.mul_(sharpness)

    def encode(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        memory, _ = self.enc(self.src_emb(src_tokens))
        positions = torch.arange(src_tokens.shape[1]).unsqueeze(0)
        mask = (positions < src_lengths.unsqueeze(1)).unsqueeze(-1).float()
        pooled = (memory * mask).sum(1) / src_lengths.unsqueeze(1).clamp(min=1).float()
        h0 = torch.tanh(self.bridge(pooled)).unsqueeze(0).repeat(self.layers, 1, 1)
        return memory, h0, torch.zeros_like(h0)

    def decode_step(
        self,
        prev_tokens: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        out, (h_out, c_out) = self.dec(self.tgt_emb(prev_tokens).unsqueeze(1), (h, c))
        query = out.squeeze(1)
        scores = torch.bmm(memory, query.unsqueeze(2)).squeeze(2)
        attention = torch.softmax(scores.masked_fill(~memory_mask, -1e9), dim=1)
        context = torch.bmm(attention.unsqueeze(1), memory).squeeze(1)
        return self.out(torch.cat([query, context], dim=1)), h_out, c_out, attention
