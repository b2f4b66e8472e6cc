"""The value types of the domain API: decoding options in, results out.

Defined here, in the client package, so that a client needs neither the
server's engine nor ONNX Runtime; the engine uses these same classes for its
results (server/engine/results.py) and extends DecodingOptions with the
server-side checks (server/engine/options.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecodingOptions:
    """What a client may set per request; None means "the model's default".

    beam_size: 1 is greedy decoding; at most the model's max_beam_size.
    n_best: how many hypotheses to return per sentence; at most beam_size.
    length_penalty: final score = sum log p / length**length_penalty.
    max_length / min_length: output tokens, EOS excluded.
    return_scores: include per-hypothesis scores in the result.
    """

    beam_size: int | None = None
    n_best: int | None = None
    length_penalty: float | None = None
    max_length: int | None = None
    min_length: int | None = None
    return_scores: bool = True


@dataclass(frozen=True)
class Hypothesis:
    text: str
    tokens: list[int]
    """Target token ids, EOS excluded."""
    score: float
    """Length-normalised log probability (the ranking score)."""
    log_prob: float
    """Sum of token log probabilities, not normalised."""


@dataclass(frozen=True)
class SentenceResult:
    hypotheses: list[Hypothesis]
    """n-best, best first."""
    decode_steps: int = 0


@dataclass(frozen=True)
class PartialUpdate:
    """The current best live hypothesis of one sentence while it decodes."""

    sentence_index: int
    text: str
    tokens: list[int]
    step: int
