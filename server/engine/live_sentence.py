"""Per-sentence bookkeeping of a decoding sentence: back-pointers and finished list."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqserve.server.engine.beam_search import ranking_score
from seqserve.server.engine.decode_rules import sentence_rng
from seqserve.server.engine.job import DecodeJob, FinishedHypothesis


@dataclass(eq=False)
class LiveSentence:
    job: DecodeJob
    index: int
    """Position of this sentence in its job."""
    beam: int
    source_length: int
    step: int = 0
    parents: list[list[int]] = field(default_factory=list)
    """Per step, [b] local parent of each new alive row."""
    tokens: list[list[int]] = field(default_factory=list)
    """Per step, [b] token of each new alive row. Python lists, not arrays: a
    history walk then reads plain ints (a finished hypothesis walks its whole
    history, a dozen times a step at 32 in flight)."""
    finished: list[FinishedHypothesis] = field(default_factory=list)
    result: list[FinishedHypothesis] | None = None
    """The n-best once decoding stopped (set before the sentence leaves the batch)."""
    attention: list[np.ndarray] = field(default_factory=list)
    """Per step, [b, source_length] attention behind each new alive row's token
    (kept only when the request asked for return_attention)."""
    prefix: tuple[int, ...] = ()
    rng: np.random.Generator | None = None
    """The sentence's own sampling generator (independent of batch-mates)."""

    def __post_init__(self) -> None:
        options = self.job.options
        self.prefix = options.prefix_for(self.index)
        if options.sampling:
            seed = options.seed if options.seed is not None else _fresh_seed()
            self.rng = sentence_rng(seed, self.index)

    @property
    def uses_rules(self) -> bool:
        """Needs the whole distribution (decode_rules) instead of the top-k fast path."""
        return self.job.options.needs_full_distribution

    @property
    def initial_alive(self) -> int:
        """Rows live at step 0: independent samples all start from BOS; a beam
        (or the alternatives, which branch after the prefix) from one row."""
        options = self.job.options
        return self.beam if options.sampling and not options.return_alternatives else 1

    def attention_history(self, row: int) -> list[np.ndarray] | None:
        """Per output token of alive row `row`, its attention over the source."""
        if not self.job.options.return_attention or len(self.attention) < self.step:
            return None
        out: list[np.ndarray] = []
        t = self.step
        while t > 0:
            out.append(self.attention[t - 1][row])
            row = self.parents[t - 1][row]
            t -= 1
        out.reverse()
        return out

    def history(self, row: int, steps: int | None = None) -> list[int]:
        """Tokens of alive row `row` as it was after `steps` steps (default: now)."""
        t = self.step if steps is None else steps
        out: list[int] = []
        parents, tokens = self.parents, self.tokens
        while t > 0:
            t -= 1
            out.append(tokens[t][row])
            row = parents[t][row]
        out.reverse()
        return out

    def add_finished(self, parent_row: int, log_prob: float) -> None:
        """An EOS emitted at the current step from `parent_row` (before the step)."""
        tokens = self.history(parent_row)
        score = ranking_score(log_prob, len(tokens) + 1, self.job.options.length_penalty)
        self.finished.append(FinishedHypothesis(
            tokens, score, float(log_prob), self.attention_history(parent_row)
        ))

    def advance(self, parents: np.ndarray, tokens: np.ndarray) -> None:
        self.parents.append(parents.tolist())
        self.tokens.append(tokens.tolist())
        self.step += 1

    @property
    def may_stop(self) -> bool:
        """Whether done() can be true after this step: the cheap part of its test, so
        the loop checks only these sentences (at 32 in flight, a few per step)."""
        options = self.job.options
        return (options.independent_rows or self.step >= options.max_length
                or len(self.finished) >= self.beam)

    def done(self, alive: np.ndarray) -> bool:
        """Whether decoding of this sentence stops after this step (alive: [b] scores)."""
        if self.job.options.independent_rows:
            # Each row is its own hypothesis: stop when every one has ended.
            return self.step >= self.job.options.max_length or not np.isfinite(alive).any()
        return self._beam_done(float(alive[0]))

    def best_row(self, alive: np.ndarray) -> int | None:
        """The alive row to show in a partial update (None: no row alive)."""
        row = int(np.argmax(alive))
        return row if np.isfinite(alive[row]) else None

    def _beam_done(self, best_alive: float) -> bool:
        """Stop at max_length, or once b hypotheses have finished and the best
        alive one, scored at its current length, cannot beat the b-th best of
        them. With length_penalty 0 that bound is exact (more tokens only
        lower a log prob); with beam 1 it makes decoding exactly greedy.

        Stopping as soon as b hypotheses finish (fairseq's rule) lets a
        confident model's low-probability early EOS candidates fill the
        finished list before the likely hypothesis ends; this rule keeps
        searching while the alive beam can still win (as Hugging Face's
        non-early-stopping beam search does).
        """
        options = self.job.options
        if self.step >= options.max_length:
            return True
        if len(self.finished) < self.beam:
            return False
        kth_best = sorted((h.score for h in self.finished), reverse=True)[self.beam - 1]
        potential = ranking_score(best_alive, self.step, options.length_penalty)
        return not potential > kth_best

    def finalize(self, alive_scores: np.ndarray) -> list[FinishedHypothesis]:
        """n-best at the end; alive rows count only when decoding hit max_length."""
        results = list(self.finished)
        if self.step >= self.job.options.max_length:
            penalty = self.job.options.length_penalty
            for row in range(self.beam):
                log_prob = float(alive_scores[row])
                if not np.isfinite(log_prob):
                    continue
                tokens = self.history(row)
                results.append(
                    FinishedHypothesis(tokens, ranking_score(log_prob, len(tokens), penalty),
                                       log_prob, self.attention_history(row))
                )
        results.sort(key=lambda h: -h.score)
        return results[: self.job.options.n_best]


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().entropy) % 2**64
