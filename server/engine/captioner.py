"""A loaded captioner: image preprocessing + graphs + the shared DecodeScheduler.

Images become DecodeJob sources (normalised arrays); decoding, beam search,
batching policy, deadlines and cancellation are the translator's own.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np

from seqserve.server.engine.blocking_decode import decode_blocking
from seqserve.server.engine.captioner_graphs import CaptionerGraphs
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent
from seqserve.server.engine.option_tokens import attention_lists, with_tokens
from seqserve.server.engine.options import DecodingOptions, ResolvedOptions
from seqserve.server.engine.results import Hypothesis, SentenceResult
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.engine.waiting import submitted
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.captioner import check_image_count
from seqserve.server.repository.image_input import (
    check_request_pixels,
    check_tensor,
    decode_opened,
    open_image,
)
from seqserve.server.repository.repository import ModelVersion

ImageInput = bytes | np.ndarray
"""Encoded PNG/JPEG bytes, or a raw float32 [C,H,W] tensor already normalised."""


class CaptionerModel:
    def __init__(
        self, version: ModelVersion, *, policy: str | None = None,
        available_versions: list[int] | None = None,
    ) -> None:
        config = version.config
        if policy is not None:
            batching = config.batching.model_copy(update={"policy": policy})
            config = config.model_copy(update={"batching": batching})
        self.config = config
        self.words: list[str] = json.loads((version.path / config.vocab.file).read_text())
        self._word_ids = {word: i for i, word in enumerate(self.words) if i > 3}
        self.graphs = CaptionerGraphs(version.path, config)
        self.scheduler = DecodeScheduler(
            version.name, self.graphs, config.batching, bos_id=config.vocab.bos_id,
            eos_id=config.vocab.eos_id, vocab_size=len(self.words),
        )
        self.info = ModelInfo(
            name=version.name, version=version.version, kind=config.kind, config=config,
            providers=list(self.graphs.providers),
            available_versions=list(available_versions or [version.version]),
            vocab_size=len(self.words),
        )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()

    # ---- validation at the edge ---------------------------------------------
    def prepare(self, images: list[ImageInput]) -> list[np.ndarray]:
        limits, pre = self.config.limits, self.config.preprocessing
        check_image_count(len(images), limits)  # the kind's rule, as the domain API's
        # Every header first: the request's pixels are bounded before any is decoded.
        opened = {
            i: open_image(image, limits, where=f"images[{i}]")
            for i, image in enumerate(images) if not isinstance(image, np.ndarray)
        }
        check_request_pixels(list(opened.values()), limits)
        return [
            check_tensor(image, pre, where=f"images[{i}]") if isinstance(image, np.ndarray)
            else decode_opened(opened[i], pre, where=f"images[{i}]")
            for i, image in enumerate(images)
        ]

    def resolve(self, options: DecodingOptions, sentences: int = 1) -> ResolvedOptions:
        resolved = options.resolve(self.config.decoding, self.config.limits)
        return with_tokens(
            resolved, sentences, self.encode_words,
            max_prefix_tokens=self.config.limits.max_prefix_tokens,
            vocab_size=len(self.words), eos_id=self.config.vocab.eos_id,
            has_attention=self.graphs.has_attention,
        )

    def encode_words(self, text: str) -> list[int]:
        """Caption text -> word ids (target_prefix, suppress_sequences)."""
        ids = []
        for word in text.split():
            if word not in self._word_ids:
                raise InvalidArgumentError(f"word {word!r} is not in the captioner's vocabulary")
            ids.append(self._word_ids[word])
        return ids

    def text(self, tokens: list[int]) -> str:
        return " ".join(self.words[t] for t in tokens if 3 < t < len(self.words))

    def results(self, event: DoneEvent, options: ResolvedOptions) -> list[SentenceResult]:
        return [
            SentenceResult(
                hypotheses=[
                    Hypothesis(
                        text=self.text(h.tokens), tokens=h.tokens,
                        score=h.score if options.return_scores else 0.0,
                        log_prob=h.log_prob if options.return_scores else 0.0,
                        attention=attention_lists(h.attention),
                    )
                    for h in nbest
                ],
                decode_steps=steps,
            )
            for nbest, steps in zip(event.nbest, event.steps, strict=True)
        ]

    # ---- async API -------------------------------------------------------------
    async def caption(
        self, images: list[ImageInput], options: DecodingOptions, *,
        deadline: float | None = None,
    ) -> list[SentenceResult]:
        resolved = self.resolve(options, len(images))
        # Decoding an image is CPU work: off the event loop.
        arrays = await asyncio.to_thread(self.prepare, images)
        job = DecodeJob(arrays, resolved, deadline=deadline, want_partials=False)
        with submitted(self.scheduler, job) as events:
            event = await events.get()
        if isinstance(event, ErrorEvent):
            raise event.error
        assert isinstance(event, DoneEvent)
        return self.results(event, resolved)

    # ---- blocking API (export verification, benchmarks) -------------------------
    def caption_blocking(
        self, arrays: list[np.ndarray], options: DecodingOptions, *, chunk: int = 32
    ) -> list[SentenceResult]:
        return decode_blocking(
            self.scheduler, arrays, self.resolve(options), chunk, self.results
        )
