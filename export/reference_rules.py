"""Reference decoding rules and sampler, written for clarity, not speed.

The second, independent implementation of the served engine's decoding
options (server/engine/decode_rules.py and rule_step.py): plain loops over
the vocabulary, one hypothesis at a time. Beam search with rules reuses
reference_beam.beam_search by carrying each hypothesis' history inside its
opaque state; sampling and return_alternatives decode each row on its own.

Rules, in order: forced prefix (only the prefix token, raw log prob, nothing
else applies) -> repetition penalty (log p x penalty for tokens already
produced) -> no-repeat n-grams -> suppressed sequences -> EOS before
min_length -> renormalise. Sampling: / temperature, top-k, top-p nucleus,
then one uniform draw per live row, rows in order, from the sentence's own
generator, by walking the kept tokens in descending order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqserve.export.reference_beam import BeamOptions, RefHypothesis, StepFn, beam_search

NEG_INF = float("-inf")


@dataclass(frozen=True)
class RuleOptions:
    beam: BeamOptions
    prefix: tuple[int, ...] = ()
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    suppress: tuple[tuple[int, ...], ...] = ()
    sampling_topk: int = 1
    sampling_topp: float = 1.0
    sampling_temperature: float = 1.0
    seed: int = 0
    sentence_index: int = 0
    samples: int = 1
    """Independent rows (sampling or alternatives): how many."""
    alternatives: bool = False


def _bans_ngram(history: list[int], token: int, n: int) -> bool:
    if n <= 0 or len(history) < n - 1:
        return False
    candidate = [*history[len(history) - (n - 1):], token] if n > 1 else [token]
    grams = [history[i : i + n] for i in range(len(history) - n + 1)]
    return candidate in grams


def _suppressed(history: list[int], token: int, sequences: Sequence[tuple[int, ...]]) -> bool:
    for sequence in sequences:
        if sequence[-1] != token:
            continue
        head = list(sequence[:-1])
        if len(history) >= len(head) and history[len(history) - len(head):] == head:
            return True
    return False


def process(raw: Sequence[float], history: list[int], options: RuleOptions) -> list[float]:
    """One row of processed log probs as a Python list."""
    vocab = len(raw)
    step = len(history)
    if step < len(options.prefix):
        return [float(raw[w]) if w == options.prefix[step] else NEG_INF for w in range(vocab)]
    out = []
    for w in range(vocab):
        value = float(raw[w])
        if w in history:
            value *= options.repetition_penalty
        if _bans_ngram(history, w, options.no_repeat_ngram_size):
            value = NEG_INF
        if _suppressed(history, w, options.suppress):
            value = NEG_INF
        if w == options.beam.eos_id and step < options.beam.min_length:
            value = NEG_INF
        out.append(value)
    finite = [v for v in out if v != NEG_INF]
    if not finite:
        return out
    top = max(finite)
    log_total = top + math.log(sum(math.exp(v - top) for v in finite))
    return [v - log_total if v != NEG_INF else NEG_INF for v in out]


def beam_search_with_rules(
    step: StepFn, init_state: Any, options: RuleOptions
) -> list[RefHypothesis]:
    """reference_beam.beam_search over processed rows (history rides in the state)."""

    def ruled(prev_tokens: Sequence[int], states: Sequence[Any]) -> tuple[np.ndarray, list]:
        histories = [[] if hist is None else [*hist, prev]
                     for prev, (_, hist) in zip(prev_tokens, states, strict=True)]
        logprobs, inner = step(prev_tokens, [state for state, _ in states])
        rows = [process(row, hist, options) for row, hist in zip(logprobs, histories,
                                                                 strict=True)]
        return np.array(rows, np.float64), list(zip(inner, histories, strict=True))

    return beam_search(ruled, (init_state, None), options.beam)


def draw(row: list[float], options: RuleOptions, rng: np.random.Generator) -> int:
    ranked = sorted((w for w in range(len(row)) if row[w] != NEG_INF), key=lambda w: -row[w])
    if options.sampling_topk > 0:
        ranked = ranked[: options.sampling_topk]
    top = row[ranked[0]] / options.sampling_temperature
    weights = [math.exp(row[w] / options.sampling_temperature - top) for w in ranked]
    total = sum(weights)
    probs = [x / total for x in weights]
    if options.sampling_topp < 1.0:
        kept, running = [], 0.0
        for w, p in zip(ranked, probs, strict=True):
            kept.append((w, p))
            running += p
            if running >= options.sampling_topp:
                break
        total = sum(p for _, p in kept)
        ranked, probs = [w for w, _ in kept], [p / total for _, p in kept]
    u = rng.random()
    running = 0.0
    for w, p in zip(ranked, probs, strict=True):
        running += p
        if u < running:
            return w
    return ranked[-1]


def independent_rows(step: StepFn, init_state: Any, options: RuleOptions) -> list[RefHypothesis]:
    """Sampling / return_alternatives: each row is its own hypothesis."""
    beam = options.beam
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [options.seed, options.sentence_index])))
    sampling = options.sampling_topk != 1
    branch_at = len(options.prefix) if options.alternatives else None
    # A row: [tokens, log_prob, state, alive]
    rows = [[[], 0.0, init_state, True]
            for _ in range(1 if options.alternatives else options.samples)]
    finished: list[RefHypothesis] = []
    for t in range(beam.max_length):
        live = [r for r in rows if r[3]]
        if not live:
            break
        prev = [r[0][-1] if r[0] else beam.bos_id for r in live]
        logprobs, states = step(prev, [r[2] for r in live])
        for r, raw, state in zip(live, logprobs, states, strict=True):
            r[2] = state
            processed = process(raw, r[0], options)
            if t == branch_at:
                ranked = sorted(range(len(processed)), key=lambda w: -processed[w])
                branches = []
                for w in ranked[: options.samples]:
                    if processed[w] == NEG_INF:
                        break
                    score = r[1] + processed[w]
                    if w == beam.eos_id:
                        finished.append(RefHypothesis(list(r[0]), _rank(score, len(r[0]) + 1,
                                                                        beam), score))
                    else:
                        branches.append([[*r[0], w], score, state, True])
                rows = branches
                break
            if all(v == NEG_INF for v in processed):
                r[3] = False
                continue
            w = draw(processed, options, rng) if sampling else max(
                range(len(processed)), key=lambda x: (processed[x], -x))
            score = r[1] + processed[w]
            if w == beam.eos_id:
                finished.append(RefHypothesis(list(r[0]), _rank(score, len(r[0]) + 1, beam),
                                              score))
                r[3] = False
            else:
                r[0], r[1] = [*r[0], w], score
    else:
        for r in rows:
            if r[3]:
                finished.append(RefHypothesis(list(r[0]), _rank(r[1], len(r[0]), beam), r[1]))
    return sorted(finished, key=lambda h: -h.score)[: options.samples]


def _rank(log_prob: float, length: int, beam: BeamOptions) -> float:
    return log_prob / (max(length, 1) ** beam.length_penalty)
