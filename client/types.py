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

    beam_size: 1 is greedy decoding; at most limits.max_beam_size.
    n_best: how many hypotheses to return per sentence; at most beam_size
      (with sampling or return_alternatives: at most limits.max_beam_size).
    length_penalty: final score = sum log p / length**length_penalty.
    max_length / min_length: output tokens, EOS excluded.
    return_scores: include per-hypothesis scores in the result.
    sampling_topk: 1 = no sampling (beam search); 0 = sample from the whole
      vocabulary; k > 1 = sample among the k likeliest tokens (CTranslate2's
      convention). Sampling needs beam_size 1; n_best > 1 gives independent samples.
    sampling_topp: nucleus sampling: keep the likeliest tokens whose
      probability sums to at least p (1 = keep all).
    sampling_temperature: probabilities ~ p**(1/T) when sampling.
    seed: sampling seed; one sentence's draws depend only on (seed, its
      position in the request), never on batch-mates. None = a fresh seed.
    repetition_penalty: log p of every token already in the hypothesis is
      multiplied by this (> 1 discourages repeats), then renormalised.
    no_repeat_ngram_size: n > 0 forbids any n-gram to occur twice in a hypothesis.
    suppress_sequences: texts never to produce; each is tokenized with the
      model's tokenizer, its last piece is forbidden after the others.
    target_prefix: forced start of the output, as text: none, one for every
      sentence, or one per sentence ("" = no prefix for that sentence).
    return_alternatives: the n_best likeliest tokens at the first position
      after the prefix, each continued greedily (or sampled): one hypothesis each.
    return_attention: per output token, the attention weights over the source
      positions (and the argmax position as the token's alignment).
    """

    beam_size: int | None = None
    n_best: int | None = None
    length_penalty: float | None = None
    max_length: int | None = None
    min_length: int | None = None
    return_scores: bool = True
    sampling_topk: int | None = None
    sampling_topp: float | None = None
    sampling_temperature: float | None = None
    seed: int | None = None
    repetition_penalty: float | None = None
    no_repeat_ngram_size: int | None = None
    suppress_sequences: tuple[str, ...] = ()
    target_prefix: tuple[str, ...] = ()
    return_alternatives: bool = False
    return_attention: bool = False


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
