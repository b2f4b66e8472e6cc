"""The two streaming architectures and their step contract.

`step()` is what export turns into `step.onnx`; a full-sequence run is the same
call with one row, its whole length and the initial state, so the exactness
tests compare the served chunked run against exactly that.

Per-row lengths go through `pack_padded_sequence`: the legacy ONNX exporter
turns it into the LSTM node's `sequence_lens`, so Y_h/Y_c are each row's state
at its own last step and chunks of different lengths batch exactly (FACTS.md).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def run_lstm(
    lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor, h: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """LSTM over rows of different lengths: (Y [B,T,H] zero past each length, h_n, c_n)."""
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    y, (h_n, c_n) = lstm(packed, (h, c))
    y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
    return y, h_n, c_n


def last_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """x[b, lengths[b]-1] for x [B,T,D]."""
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, x.shape[-1])
    return torch.gather(x, 1, index).squeeze(1)


class CharLM(nn.Module):
    """Character LSTM LM. Per step: top-k next characters with probabilities, and the
    surprise (bits) of the character just read under the previous step's prediction.

    The previous prediction is part of the state (`logp`, [B,V]): that keeps surprise
    exact across chunk boundaries without the server knowing what it means. Its
    initial value is the uniform distribution.
    """

    STATES = ("h", "c", "logp")
    OUTPUTS = ("top_probs", "top_ids", "surprise_bits")

    def __init__(self, vocab: int, emb: int, hidden: int, layers: int, top_k: int) -> None:
        super().__init__()
        self.vocab, self.hidden, self.layers, self.top_k = vocab, hidden, layers, top_k
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def init_state(self, batch: int) -> tuple[torch.Tensor, ...]:
        zeros = torch.zeros(self.layers, batch, self.hidden)
        uniform = torch.full((batch, self.vocab), -math.log(self.vocab))
        return zeros, zeros.clone(), uniform

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Training: next-character logits [B,T,V] from the zero state."""
        y, _ = self.lstm(self.embed(tokens))
        return self.head(y)

    def step(
        self, tokens: torch.Tensor, lengths: torch.Tensor,
        h: torch.Tensor, c: torch.Tensor, logp: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        y, h_n, c_n = run_lstm(self.lstm, self.embed(tokens), lengths, h, c)
        logp_all = torch.log_softmax(self.head(y), dim=-1)
        top_logp, top_ids = torch.topk(logp_all, self.top_k, dim=-1)
        # Prediction that was in force when token t arrived: the state for t=0.
        before = torch.cat([logp.unsqueeze(1), logp_all[:, :-1]], dim=1)
        seen = torch.gather(before, 2, tokens.unsqueeze(-1)).squeeze(-1)
        surprise = -seen / math.log(2.0)
        return top_logp.exp(), top_ids, surprise, h_n, c_n, last_valid(logp_all, lengths)

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.step(*args)


class Forecaster(nn.Module):
    """LSTM forecaster in normalised units: per step, the next `horizon` values.

    The LSTM reads week-to-week changes, not levels, and the head predicts changes
    from the current value (x_t + delta): a level the training data never reached
    (co2 keeps rising) is then no extrapolation at all. The previous input is part
    of the state (`prev`, and `seen` = 0 before the first step), so the change is
    exact across chunk boundaries.
    """

    STATES = ("h", "c", "prev", "seen")
    OUTPUTS = ("forecast",)

    def __init__(
        self, hidden: int, layers: int, horizon: int, features: int = 1, diff_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.hidden, self.layers, self.horizon = hidden, layers, horizon
        self.features = features
        """Inputs per step; the forecast is of the first (the others are covariates)."""
        self.diff_scale = diff_scale
        """Changes are small in normalised units (co2: ~0.05 per week); scale them up."""
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def init_state(self, batch: int) -> tuple[torch.Tensor, ...]:
        zeros = torch.zeros(self.layers, batch, self.hidden)
        return zeros, zeros.clone(), torch.zeros(batch, self.features), torch.zeros(batch, 1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Training: forecasts [B,T,horizon] for x [B,T,features] from the initial state."""
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        return self.step(x, lengths, *self.init_state(x.shape[0]))[0]

    def step(
        self, x: torch.Tensor, lengths: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
        prev: torch.Tensor, seen: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        first = (x[:, :1] - prev.unsqueeze(1)) * seen.unsqueeze(1)
        change = torch.cat([first, x[:, 1:] - x[:, :-1]], dim=1)
        y, h_n, c_n = run_lstm(self.lstm, change * self.diff_scale, lengths, h, c)
        return x[..., :1] + self.head(y), h_n, c_n, last_valid(x, lengths), torch.ones_like(seen)

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.step(*args)
