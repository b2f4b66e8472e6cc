"""Luong "general" attention with a masked softmax."""

from __future__ import annotations

import torch
from torch import nn

# A large finite negative instead of -inf: a row with every position masked then
# gets a uniform distribution instead of NaN (which would poison a whole batch in
# the server). Real rows always have at least one position (EOS), so this never
# changes their result.
MASK_VALUE = -1e9


def source_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Bool [B,S], True on real source positions."""
    positions = torch.arange(max_len, device=lengths.device).unsqueeze(0)
    return positions < lengths.unsqueeze(1)


class GeneralAttention(nn.Module):
    """score(q, m) = q^T W m; works on T queries at once so training and a step share it."""

    def __init__(self, query_dim: int, memory_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(query_dim, memory_dim, bias=False)

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """query [N,T,Q], memory [N,S,M], mask bool [N,S] -> (context [N,T,M], weights [N,T,S])."""
        scores = torch.bmm(self.proj(query), memory.transpose(1, 2))
        scores = scores.masked_fill(~mask.unsqueeze(1), MASK_VALUE)
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights, memory), weights
