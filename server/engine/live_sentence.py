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

    def done(self) -> bool:
        return len(self.finished) >= self.beam or self.step >= self.job.options.max_length

    def finalize(self, alive_scores: np.ndarray) -> list[FinishedHypothesis]:
        """n-best at the end; alive rows count only if decoding hit max_length."""
        results = list(self.finished)
        if len(results) < self.beam:
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
