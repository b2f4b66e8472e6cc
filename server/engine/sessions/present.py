"""A chunk's graph outputs as the client sees them: denormalised forecasts, the
top-k next tokens with their strings, surprise in bits.

Two shapes of the same thing. `StepColumns` holds one Python list per output
(made with one tolist() per chunk), which the gRPC layer turns straight into
messages; `StepOutput` rows are for in-process callers and KServe. The columns
are the hot path: thousands of one-step chunks a second each pay for them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from seqserve.server.repository.streaming_config import StreamingOutputs


# NamedTuples, not frozen dataclasses: several are built per step of every
# session, and a frozen dataclass's __init__ costs several times more.
class Candidate(NamedTuple):
    token: str
    id: int
    prob: float


class StepOutput(NamedTuple):
    forecast: list[float]
    candidates: list[Candidate]
    surprise_bits: float | None


class StepColumns(NamedTuple):
    steps: int
    forecast: list[list[float]] | None
    """Per step the next `horizon` values, in input units."""
    ids: list[list[int]] | None
    """Per step the candidate token ids, best first, at most top_k."""
    probs: list[list[float]] | None
    tokens: list[list[str]] | None
    """The candidates' strings ("" for ids beyond the vocabulary file)."""
    surprise: list[float | None] | None
    """Per step the surprise in bits; None where it is undefined (the first step)."""


class Presenter:
    def __init__(
        self, spec: StreamingOutputs, vocabulary: list[str], mean: np.ndarray, std: np.ndarray
    ) -> None:
        self.spec, self.vocabulary = spec, vocabulary
        self._mean, self._std = float(mean[0]), float(std[0])

    def columns(self, outputs: dict[str, np.ndarray], top_k: int) -> StepColumns:
        spec = self.spec
        steps = next(iter(outputs.values())).shape[0]
        forecast = None
        if spec.forecast:
            # Denormalise in float64: the graph's float32 is exact to ~1e-6 in
            # normalised units, and the scale should not add rounding on top.
            scaled = outputs[spec.forecast].astype(np.float64) * self._std + self._mean
            forecast = scaled.tolist()
        ids = probs = tokens = None
        if spec.top_ids:
            ids_array, probs_array = outputs[spec.top_ids], outputs[spec.top_probs]
            if top_k:
                ids_array, probs_array = ids_array[:, :top_k], probs_array[:, :top_k]
            ids, probs = ids_array.tolist(), probs_array.tolist()
            vocab, size = self.vocabulary, len(self.vocabulary)
            tokens = [[vocab[i] if i < size else "" for i in row] for row in ids]
        surprise = None
        if spec.surprise:
            surprise = [None if math.isnan(v) else v for v in outputs[spec.surprise].tolist()]
        return StepColumns(steps, forecast, ids, probs, tokens, surprise)

    @staticmethod
    def rows(columns: StepColumns) -> list[StepOutput]:
        result = []
        for t in range(columns.steps):
            candidates = []
            if columns.ids is not None and columns.probs is not None and columns.tokens:
                candidates = [
                    Candidate(token, i, p) for token, i, p in
                    zip(columns.tokens[t], columns.ids[t], columns.probs[t], strict=True)
                ]
            result.append(StepOutput(
                forecast=columns.forecast[t] if columns.forecast is not None else [],
                candidates=candidates,
                surprise_bits=columns.surprise[t] if columns.surprise is not None else None,
            ))
        return result
