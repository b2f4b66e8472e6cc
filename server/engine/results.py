"""Small typed results the engine hands back to api/."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hypothesis:
    text: str
    tokens: list[int]
    """Target token ids, EOS excluded."""
    score: float
    """Length-normalised log probability (the ranking score)."""
    log_prob: float
    """Sum of token log probabilities, not normalised."""
    attention: list[list[float]] | None = None
    """Per output token, attention weights over the source positions
    (return_attention); its argmax is the token's alignment."""


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


@dataclass(frozen=True)
class TranslationResult:
    sentences: list[SentenceResult] = field(default_factory=list)
