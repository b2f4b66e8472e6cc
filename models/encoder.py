"""Bidirectional LSTM encoder that is exact on padded batches and exports with dynamo.

`pack_padded_sequence` only exports with the legacy ONNX exporter, and masking the
output of `nn.LSTM(bidirectional=True)` is wrong: its backward direction starts at
the padded end, so padding leaks into every real position (FACTS.md). Instead each
direction is its own unidirectional LSTM, and the backward one reads every row
reversed *within its own length* (an index gather), so it starts at the row's last
real token. Both LSTMs are causal, so real positions never see padding.
"""

from __future__ import annotations

import torch
from torch import nn


def reverse_index(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Index [B,S] that reverses positions 0..len-1 of each row and keeps padding in place.

    The map is its own inverse, so the same index reverses the output back.
    """
    positions = torch.arange(max_len, device=lengths.device).unsqueeze(0)
    last = (lengths - 1).unsqueeze(1)
    return torch.where(positions <= last, last - positions, positions)


def gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[b, index[b, t], :] for x [B,S,D] and index [B,S]."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class BiLSTMEncoder(nn.Module):
    """Embedding + stacked bidirectional LSTM; memory is [forward; backward] per position."""

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int,
        hidden: int,
        layers: int = 1,
        dropout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        in_dims = [emb_dim] + [2 * hidden] * (layers - 1)
        self.forward_lstms = nn.ModuleList(nn.LSTM(d, hidden, batch_first=True) for d in in_dims)
        self.backward_lstms = nn.ModuleList(nn.LSTM(d, hidden, batch_first=True) for d in in_dims)

    @property
    def memory_dim(self) -> int:
        return 2 * self.hidden

    def forward(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return memory [B,S,2H] and the final states of both directions [B,2H].

        The final states come from the top layer: the forward direction's at position
        length-1 (not S-1, which is padding for short rows) and the backward
        direction's at position 0 (its last step, since it read the row reversed).
        """
        rev = reverse_index(src_lengths, src_tokens.shape[1])
        x = self.dropout(self.embedding(src_tokens))
        for i, (fwd, bwd) in enumerate(zip(self.forward_lstms, self.backward_lstms, strict=True)):
            if i > 0:
                x = self.dropout(x)
            out_f, _ = fwd(x)
            out_b, _ = bwd(gather_time(x, rev))
            x = torch.cat([out_f, gather_time(out_b, rev)], dim=-1)
        last = (src_lengths - 1).view(-1, 1, 1).expand(-1, 1, self.hidden)
        final_f = torch.gather(x[:, :, : self.hidden], 1, last).squeeze(1)
        final_b = x[:, 0, self.hidden :]
        return x, torch.cat([final_f, final_b], dim=-1)
