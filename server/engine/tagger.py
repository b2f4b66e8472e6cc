"""A loaded tagger: vocab + tagging graph behind a DynamicBatcher.

`tag()` is what api/ calls: validated sentences in, per-token labels with
probabilities (and the top-k) out. The graph runs on the batcher's thread,
never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from seqserve.server.engine.dynamic_batcher import BatchRequest, DynamicBatcher
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.waiting import submitted
from seqserve.server.kinds.tagger import check_limits, check_tokens
from seqserve.server.repository.repository import ModelVersion
from seqserve.server.repository.tag_vocab import TagVocab
from seqserve.server.runtime.graph import OrtGraph


# NamedTuples, not frozen dataclasses: one is built per token of every request.
class TokenLabel(NamedTuple):
    token: str
    label: str
    probability: float
    top: list[tuple[str, float]]


class SentenceScores(NamedTuple):
    """One sentence's graph output, reduced on the batch thread for the whole batch."""

    best: list[int]
    """Per token the most probable label id."""
    best_prob: list[float]
    probs: np.ndarray
    """[tokens, labels] probabilities, for top-k."""


class TaggerModel:
    def __init__(
        self, version: ModelVersion, *, policy: str | None = None,
        available_versions: list[int] | None = None,
    ) -> None:
        config = version.config
        if policy == "sequential":  # the server-wide "batching off" switch
            config = config.model_copy(
                update={"batching": config.batching.model_copy(update={"policy": policy})}
            )
        self.config = config
        self.vocab = TagVocab.load(
            version.path / config.vocab.file, lowercase=config.vocab.lowercase,
            max_chars=config.vocab.max_chars,
        )
        tensors = config.graphs.tensors
        self.tensors = tensors
        self.graph = OrtGraph(version.path / config.graphs.tagger, config.runtime)
        self.graph.check_signature(
            [tensors.tokens, tensors.chars, tensors.lengths], [tensors.logits]
        )
        batching = config.batching
        self.batcher = DynamicBatcher(
            version.name, self._run_batch, max_batch_size=batching.max_batch_size,
            max_queue_delay_s=batching.max_queue_delay_ms / 1000.0,
            max_queue=batching.max_queue, policy=batching.policy,
            adaptive_delay=batching.adaptive_delay,
            call_overhead_tokens=batching.call_overhead_tokens,
        )
        self.info = ModelInfo(
            name=version.name, version=version.version, kind=config.kind, config=config,
            providers=list(self.graph.providers),
            available_versions=list(available_versions or [version.version]),
            labels=list(self.vocab.labels),
        )

    def start(self) -> None:
        self.batcher.start()

    def stop(self) -> None:
        self.batcher.stop()

    # ---- validation at the edge ---------------------------------------------
    def validate(self, sentences: Sequence[Sequence[str]], top_k: int) -> None:
        # The kind's rules (server/kinds/tagger.py): one message for both APIs.
        check_tokens(sentences)
        check_limits(sentences, top_k, self.config.limits)

    # ---- the batch function (batcher thread) ---------------------------------
    def _run_batch(self, sentences: list[list[str]]) -> list[SentenceScores]:
        tokens, chars, lengths = self.vocab.batch(sentences)
        t = self.tensors
        (logits,) = self.graph.run(
            {t.tokens: tokens, t.chars: chars, t.lengths: lengths}, [t.logits]
        )
        logits = logits - logits.max(axis=2, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=2, keepdims=True)
        # argmax and its probability for the whole batch at once, as lists: the
        # per-token work left for the event loop is then plain list indexing.
        best = probs.argmax(axis=2)
        best_prob = np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0]
        best_rows, prob_rows = best.tolist(), best_prob.tolist()
        return [
            SentenceScores(best_rows[row][: len(s)], prob_rows[row][: len(s)],
                           probs[row, : len(s)])
            for row, s in enumerate(sentences)
        ]

    def _labels(self, tokens: list[str], scores: SentenceScores, top_k: int) -> list[TokenLabel]:
        labels = self.vocab.labels
        if not top_k:
            return [
                TokenLabel(token, labels[i], p, [])
                for token, i, p in zip(tokens, scores.best, scores.best_prob, strict=True)
            ]
        order = np.argsort(-scores.probs, axis=1)[:, :top_k]
        top_probs = np.take_along_axis(scores.probs, order, axis=1).tolist()
        return [
            TokenLabel(token, labels[i], p,
                       [(labels[j], q) for j, q in zip(ids, qs, strict=True)])
            for token, i, p, ids, qs in zip(
                tokens, scores.best, scores.best_prob, order.tolist(), top_probs, strict=True)
        ]

    # ---- async API -----------------------------------------------------------
    async def tag(
        self, sentences: list[list[str]], *, top_k: int = 0, deadline: float | None = None
    ) -> list[list[TokenLabel]]:
        self.validate(sentences, top_k)
        request = BatchRequest(sentences, [len(s) for s in sentences], deadline=deadline)
        with submitted(self.batcher, request) as outcomes:
            scores = await outcomes.get()
        if isinstance(scores, BaseException):
            raise scores
        return [self._labels(s, p, top_k) for s, p in zip(sentences, scores, strict=True)]

    def tag_blocking(self, sentences: list[list[str]]) -> list[list[str]]:
        """Best labels without asyncio (benchmarks, scripts)."""
        return [
            [self.vocab.labels[i] for i in scores.best] for scores in self._run_batch(sentences)
        ]
