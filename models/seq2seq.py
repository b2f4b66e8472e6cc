"""LSTM encoder-decoder with attention, implementing export/contract.py's Seq2SeqModule.

The decoder has no input feeding: its only recurrent state is (h, c), so the
served decoder-step graph carries exactly the state pairs the contract names, and
teacher-forced training can run the decoder LSTM over the whole target at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from seqserve.models.attention import GeneralAttention, source_mask
from seqserve.models.encoder import BiLSTMEncoder

PAD_ID = 0
BOS_ID = 1
EOS_ID = 2
UNK_ID = 3


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Hyper-parameters; stored in checkpoints so a model can be rebuilt."""

    src_vocab: int
    tgt_vocab: int
    emb_dim: int = 256
    hidden: int = 256
    """Decoder LSTM size (H of the state tensors)."""
    enc_hidden: int = 256
    """Encoder size per direction; memory dim M = 2 * enc_hidden."""
    enc_layers: int = 1
    dec_layers: int = 1
    dropout: float = 0.1
    pad_id: int = PAD_ID


class Seq2Seq(nn.Module):
    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        emb_dim: int = 256,
        hidden: int = 256,
        enc_hidden: int = 256,
        enc_layers: int = 1,
        dec_layers: int = 1,
        dropout: float = 0.1,
        pad_id: int = PAD_ID,
    ) -> None:
        super().__init__()
        self.config = Seq2SeqConfig(
            src_vocab,
            tgt_vocab,
            emb_dim,
            hidden,
            enc_hidden,
            enc_layers,
            dec_layers,
            dropout,
            pad_id,
        )
        self.encoder = BiLSTMEncoder(src_vocab, emb_dim, enc_hidden, enc_layers, dropout, pad_id)
        memory_dim = self.encoder.memory_dim
        # The bridge maps both directions' final states to every decoder layer's
        # initial state, so the decoder starts from a summary of the whole source.
        self.bridge_h = nn.Linear(memory_dim, dec_layers * hidden)
        self.bridge_c = nn.Linear(memory_dim, dec_layers * hidden)
        self.tgt_embedding = nn.Embedding(tgt_vocab, emb_dim, padding_idx=pad_id)
        self.decoder_lstm = nn.LSTM(
            emb_dim,
            hidden,
            num_layers=dec_layers,
            batch_first=True,
            dropout=dropout if dec_layers > 1 else 0.0,
        )
        self.attention = GeneralAttention(hidden, memory_dim)
        self.combine = nn.Linear(hidden + memory_dim, hidden)
        self.output = nn.Linear(hidden, tgt_vocab)
        self.dropout = nn.Dropout(dropout)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Seq2Seq:
        return cls(**config)

    def _initial_state(self, summary: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (self.config.dec_layers, self.config.hidden)
        h = torch.tanh(self.bridge_h(summary)).unflatten(1, shape).transpose(0, 1).contiguous()
        c = torch.tanh(self.bridge_c(summary)).unflatten(1, shape).transpose(0, 1).contiguous()
        return h, c

    def encode(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """src_tokens int64[B,S], src_lengths int64[B] -> (memory [B,S,M], h [L,B,H], c [L,B,H])."""
        memory, summary = self.encoder(src_tokens, src_lengths)
        h, c = self._initial_state(summary)
        return memory, h, c

    def _attentional(
        self, top: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder top outputs [N,T,H] -> (attentional states [N,T,H], attention [N,T,S]).

        Shared by `forward` and `decode_step` so the two compute one function.
        """
        context, weights = self.attention(top, memory, memory_mask)
        return torch.tanh(self.combine(torch.cat([top, context], dim=-1))), weights

    def _logits(self, attentional: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(attentional))

    def decode_step(
        self,
        prev_tokens: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step for N rows -> (logits [N,V], h_out, c_out, attention [N,S])."""
        x = self.dropout(self.tgt_embedding(prev_tokens.unsqueeze(1)))
        top, (h_out, c_out) = self.decoder_lstm(x, (h, c))
        attentional, weights = self._attentional(top, memory, memory_mask)
        return self._logits(attentional).squeeze(1), h_out, c_out, weights.squeeze(1)

    def forward(
        self,
        src_tokens: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt_in: torch.Tensor,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced logits [B,T,V] for decoder inputs tgt_in [B,T] (BOS first).

        Positions of tgt_in after a row's end are padding; they cannot affect earlier
        positions (the LSTM is causal). With `positions` (bool [B,T]) only those
        positions are projected, giving logits [K,V] in row-major order: the
        vocabulary projection and softmax dominate training cost, and the loss
        ignores padding anyway.
        """
        memory, h, c = self.encode(src_tokens, src_lengths)
        mask = source_mask(src_lengths, src_tokens.shape[1])
        x = self.dropout(self.tgt_embedding(tgt_in))
        top, _ = self.decoder_lstm(x, (h, c))
        attentional, _ = self._attentional(top, memory, mask)
        if positions is not None:
            attentional = attentional[positions]
        return self._logits(attentional)
