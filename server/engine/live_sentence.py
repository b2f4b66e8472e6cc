"""Per-sentence bookkeeping of a decoding sentence: back-pointers and finished list."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqserve.server.engine.beam_search import ranking_score
from seqserve.server.engine.job import DecodeJob, FinishedHypothesis


@dataclass(eq=False)
class LiveSentence:
    job: DecodeJob
    index: int
    """Position of this sentence in its job."""
    beam: int
    source_length: int
    step: int = 0
    parents: list[np.ndarray] = field(default_factory=list)
    """Per step, [b] local parent of each new alive row."""
    tokens: list[np.ndarray] = field(default_factory=list)
    """Per step, [b] token of each new alive row."""
    finished: list[FinishedHypothesis] = field(default_factory=list)
    result: list[FinishedHypothesis] | None = None
    """The n-best once decoding stopped (set before the sentence leaves the batch)."""

    def history(self, row: int, steps: int | None = None) -> list[int]:
        """Tokens of alive row `row` as it was after `steps` steps (default: now)."""
        t = self.step if steps is None else steps
        out: list[int] = []
        while t > 0:
            out.append(int(self.tokens[t - 1][row]))
            row = int(self.parents[t - 1][row])
            t -= 1
        out.reverse()
        return out

    def add_finished(self, parent_row: int, log_prob: float) -> None:
        """An EOS emitted at the current step from `parent_row` (before the step)."""
        tokens = self.history(parent_row)
        score = ranking_score(log_prob, len(tokens) + 1, self.job.options.length_penalty)
        self.finished.append(FinishedHypothesis(tokens, score, float(log_prob)))

    def advance(self, parents: np.ndarray, tokens: np.ndarray) -> None:
        self.parents.append(parents)
        self.tokens.append(tokens)
        self.step += 1

    def done(self, best_alive: float) -> bool:
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
                                       log_prob)
                )
        results.sort(key=lambda h: -h.score)
        return results[: self.job.options.n_best]
