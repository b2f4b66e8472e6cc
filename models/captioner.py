"""CNN image encoder + LSTM decoder with attention over the feature grid.

Implements export/contract.py's decoder-step contract with an image in place
of source tokens: encode(images [B,3,H,W] float) -> (memory [B,S,M], init_h,
init_c), S = the cells of the last feature map; decode_step is the same
function the translator exports, so the server's one beam search and one
decode scheduler run both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from seqserve.models.attention import GeneralAttention

PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")


@dataclass(frozen=True)
class CaptionerConfig:
    vocab: int
    channels: int = 3
    memory_dim: int = 64
    emb_dim: int = 64
    hidden: int = 128
    dropout: float = 0.1


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU()
    )


class ImageEncoder(nn.Module):
    """Three stride-2 conv blocks (48x48 -> 6x6). Two coordinate channels are appended to
    the input (CoordConv) so the grid cells know where they are: captions say
    "left of" and "above"."""

    def __init__(self, channels: int, memory_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            _block(channels + 2, 24, 2), _block(24, 48, 2), _block(48, memory_dim, 2),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = images.shape
        ys = torch.linspace(-1.0, 1.0, height).view(1, 1, height, 1).expand(batch, 1, height, width)
        xs = torch.linspace(-1.0, 1.0, width).view(1, 1, 1, width).expand(batch, 1, height, width)
        grid = self.net(torch.cat([images, xs, ys], dim=1))  # [B, M, h, w]
        return grid.flatten(2).transpose(1, 2)  # [B, S, M]


class Captioner(nn.Module):
    def __init__(self, config: CaptionerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = ImageEncoder(config.channels, config.memory_dim)
        self.bridge_h = nn.Linear(config.memory_dim, config.hidden)
        self.bridge_c = nn.Linear(config.memory_dim, config.hidden)
        self.embedding = nn.Embedding(config.vocab, config.emb_dim, padding_idx=PAD_ID)
        self.decoder_lstm = nn.LSTM(config.emb_dim, config.hidden, batch_first=True)
        self.attention = GeneralAttention(config.hidden, config.memory_dim)
        self.combine = nn.Linear(config.hidden + config.memory_dim, config.hidden)
        self.output = nn.Linear(config.hidden, config.vocab)
        self.dropout = nn.Dropout(config.dropout)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Captioner:
        return cls(CaptionerConfig(**config))

    def encode_images(
        self, images: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """images float [B,C,H,W] (normalised) -> (memory [B,S,M], h [1,B,H], c [1,B,H])."""
        memory = self.encoder(images)
        summary = memory.mean(dim=1)
        h = torch.tanh(self.bridge_h(summary)).unsqueeze(0)
        c = torch.tanh(self.bridge_c(summary)).unsqueeze(0)
        return memory, h, c

    def decode_step(
        self, prev_tokens: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
        memory: torch.Tensor, memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step for N rows -> (logits [N,V], h_out, c_out, attention [N,S])."""
        x = self.dropout(self.embedding(prev_tokens.unsqueeze(1)))
        top, (h_out, c_out) = self.decoder_lstm(x, (h, c))
        logits, weights = self._project(top, memory, memory_mask)
        return logits.squeeze(1), h_out, c_out, weights.squeeze(1)

    def _project(
        self, top: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        context, weights = self.attention(top, memory, mask)
        attentional = torch.tanh(self.combine(torch.cat([top, context], dim=-1)))
        return self.output(self.dropout(attentional)), weights

    def forward(self, images: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits [B,T,V] for decoder inputs tgt_in [B,T] (BOS first)."""
        memory, h, c = self.encode_images(images)
        mask = torch.ones(memory.shape[:2], dtype=torch.bool)
        top, _ = self.decoder_lstm(self.dropout(self.embedding(tgt_in)), (h, c))
        return self._project(top, memory, mask)[0]
