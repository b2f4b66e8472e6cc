"""A tiny numpy seq2seq with the graphs interface of Seq2SeqGraphs, for engine tests.

Every row is computed by `row_step`, which the reference beam search calls
too, so engine and reference see bitwise-identical log probabilities and any
difference in their outputs is a difference in beam-search logic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqserve.server.engine.seq2seq_graphs import EncoderOutput, StepOutput

EOS = 2
BOS = 1


@dataclass
class FakeSeq2Seq:
    vocab: int = 12
    hidden: int = 4
    seed: int = 0
    eos_bias: float = 0.0

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.src_embedding = rng.standard_normal((self.vocab, self.hidden))
        self.tgt_embedding = rng.standard_normal((self.vocab, self.hidden))
        self.recurrent = rng.standard_normal((self.hidden, self.hidden)) * 0.7
        self.output = rng.standard_normal((self.hidden, self.vocab)) * 2.0
        self.layers = 1
        self.memory_dim = self.hidden

    # ---- the per-row function shared with the reference ---------------------
    def initial_state(self, source: list[int]) -> np.ndarray:
        return np.tanh(self.src_embedding[source].mean(axis=0))

    def row_step(
        self, prev: int, h: np.ndarray, context: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        new_h = np.tanh(h @ self.recurrent + self.tgt_embedding[prev] + 0.5 * context)
        logits = new_h @ self.output
        logits[EOS] += self.eos_bias
        logits = logits - logits.max()
        logprobs = (logits - np.log(np.exp(logits).sum())).astype(np.float32)
        return logprobs, new_h

    # ---- the Seq2SeqGraphs interface ------------------------------------------
    def encode(self, sources: list[list[int]]) -> EncoderOutput:
        memories = [self.src_embedding[s].astype(np.float32) for s in sources]
        init = np.stack([self.initial_state(s) for s in sources])[None].astype(np.float32)
        return EncoderOutput(memories, init, np.zeros_like(init))

    def step(self, prev_tokens, h, c, memory, memory_mask, memory_index, k) -> StepOutput:
        rows = prev_tokens.shape[0]
        logprobs = np.empty((rows, self.vocab), np.float32)
        new_h = np.empty_like(h)
        for r in range(rows):
            m = memory[memory_index[r]][memory_mask[memory_index[r]]].astype(np.float64)
            lp, hr = self.row_step(int(prev_tokens[r]), h[0, r].astype(np.float64),
                                   m.mean(axis=0))
            logprobs[r] = lp
            new_h[0, r] = hr
        order = np.argsort(-logprobs, axis=1, kind="stable")[:, :k]
        return StepOutput(np.take_along_axis(logprobs, order, axis=1), order.astype(np.int64),
                          new_h, c.copy())

    def reference_step(self, source: list[int]):
        context = self.src_embedding[source].astype(np.float32).astype(np.float64).mean(axis=0)

        def step(prev_tokens, states):
            rows, new_states = [], []
            for prev, h in zip(prev_tokens, states, strict=True):
                lp, hr = self.row_step(int(prev), h, context)
                rows.append(lp)
                new_states.append(hr.astype(np.float32).astype(np.float64))
            return np.stack(rows), new_states

        return step
