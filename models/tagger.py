"""A BiLSTM part-of-speech tagger: word embeddings + a character CNN -> BiLSTM -> labels.

The backward direction runs a forward LSTM over each row reversed *within its
length* (then reverses back), so the padding after a row never enters a real
position in either direction. Training and the exported graph use this same
code: the padded batch the server builds gives exactly the unpadded answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class TaggerDims:
    words: int
    chars: int
    labels: int
    word_emb: int = 96
    char_emb: int = 32
    char_filters: int = 64
    hidden: int = 128
    dropout: float = 0.33

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """x [B,T,D]: position t < length -> length-1-t; padding positions stay put."""
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    last = lengths.unsqueeze(1) - 1
    index = torch.where(steps <= last, last - steps, steps)
    return torch.gather(x, 1, index.unsqueeze(2).expand(-1, -1, x.shape[2]))


class CharCNN(nn.Module):
    """Max over a 3-wide convolution of character embeddings, padding masked out,
    so a token's features do not depend on how wide the batch's char axis is."""

    def __init__(self, chars: int, emb: int, filters: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(chars, emb, padding_idx=0)
        self.conv = nn.Conv1d(emb, filters, kernel_size=3, padding=1)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        batch, steps, width = chars.shape
        flat = chars.reshape(batch * steps, width)
        feats = torch.relu(self.conv(self.embed(flat).transpose(1, 2)))  # [BT, F, C]
        feats = feats.masked_fill((flat == 0).unsqueeze(1), 0.0)  # relu >= 0: 0 never wins
        return feats.max(dim=2).values.reshape(batch, steps, -1)


class BiLSTMTagger(nn.Module):
    def __init__(self, dims: TaggerDims) -> None:
        super().__init__()
        self.dims = dims
        self.words = nn.Embedding(dims.words, dims.word_emb, padding_idx=0)
        self.chars = CharCNN(dims.chars, dims.char_emb, dims.char_filters)
        width = dims.word_emb + dims.char_filters
        self.forward_lstm = nn.LSTM(width, dims.hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(width, dims.hidden, batch_first=True)
        self.drop = nn.Dropout(dims.dropout)
        self.out = nn.Linear(2 * dims.hidden, dims.labels)

    @classmethod
    def from_config(cls, config: dict[str, int | float]) -> BiLSTMTagger:
        return cls(TaggerDims(**config))  # type: ignore[arg-type]

    def forward(
        self, tokens: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """tokens [B,T], chars [B,T,C], lengths [B] (int64) -> logits [B,T,K]."""
        x = self.drop(torch.cat([self.words(tokens), self.chars(chars)], dim=2))
        ahead, _ = self.forward_lstm(x)
        behind, _ = self.backward_lstm(reverse_within_length(x, lengths))
        behind = reverse_within_length(behind, lengths)
        return self.out(self.drop(torch.cat([ahead, behind], dim=2)))
