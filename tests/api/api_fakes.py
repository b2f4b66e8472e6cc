"""A fake ModelManager + TranslatorHandle for api/ tests (no ONNX, no threads).

"Translation" upper-cases the sentence. Magic sentences drive the error paths:
    __busy__   -> ResourceExhaustedError     __bug__  -> RuntimeError (a bug)
    __hang__   -> waits until cancelled (records the cancellation)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import Hypothesis, PartialUpdate, SentenceResult
from seqserve.server.errors import NotFoundError, ResourceExhaustedError, UnavailableError
from seqserve.server.repository.config import Limits, ModelConfig


def make_info(
    name: str = "en-fr",
    version: int = 2,
    *,
    state: str = "READY",
    max_sentences: int = 3,
    max_beam_size: int = 4,
) -> ModelInfo:
    config = ModelConfig(
        name=name,
        description="a test translator",
        source_language="en",
        target_language="fr",
        limits=Limits(max_sentences=max_sentences, max_beam_size=max_beam_size),
    )
    return ModelInfo(
        name=name,
        version=version,
        kind="seq2seq",
        config=config,
        providers=["CPUExecutionProvider"],
        available_versions=[1, version],
        state=state,
    )


@dataclass
class Call:
    sentences: list[str]
    options: DecodingOptions
    deadline: float | None


def _translate_one(sentence: str, n_best: int) -> SentenceResult:
    words = sentence.split()
    hyps = [
        Hypothesis(
            text=sentence.upper() + ("" if k == 0 else f" #{k}"),
            tokens=[len(w) for w in words],
            score=-0.25 * (k + 1),
            log_prob=-0.5 * (k + 1),
        )
        for k in range(n_best)
    ]
    return SentenceResult(hypotheses=hyps, decode_steps=len(words) + 1)


@dataclass
class FakeTranslator:
    info: ModelInfo
    calls: list[Call] = field(default_factory=list)
    cancelled_flag: bool = False
    stream_closed: bool = False

    async def _check(self, sentences: list[str]) -> None:
        if "__busy__" in sentences:
            raise ResourceExhaustedError("queue full (max_queue=1024); retry later")
        if "__bug__" in sentences:
            raise RuntimeError("secret internal detail")
        if "__hang__" in sentences:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled_flag = True
                raise

    def _results(self, sentences: list[str], options: DecodingOptions) -> list[SentenceResult]:
        resolved = options.resolve(self.info.config.decoding, self.info.config.limits)
        return [_translate_one(s, resolved.n_best) for s in sentences]

    async def translate(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None
    ) -> list[SentenceResult]:
        self.calls.append(Call(sentences, options, deadline))
        await self._check(sentences)
        return self._results(sentences, options)

    async def translate_stream(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None
    ) -> AsyncIterator[PartialUpdate | list[SentenceResult]]:
        self.calls.append(Call(sentences, options, deadline))
        try:
            for index, sentence in enumerate(sentences):
                words = sentence.split()
                for step in range(1, len(words) + 1):
                    yield PartialUpdate(
                        index, " ".join(words[:step]).upper(), list(range(step)), step
                    )
            await self._check(sentences)
            yield self._results(sentences, options)
        finally:
            self.stream_closed = True


class FakeManager:
    """ModelManager's interface over FakeTranslators; 'loading' models are listed but not ready."""

    def __init__(self, *translators: FakeTranslator) -> None:
        self.translators = {t.info.name: t for t in translators}
        self.loaded = False
        self.closed = False

    def load_all(self) -> None:
        self.loaded = True

    def close(self) -> None:
        self.closed = True

    def get(self, name: str, version: int | None = None, kind: Any = None) -> FakeTranslator:
        translator = self._get(name, version)
        if kind is not None:
            kind.check(translator.info)  # the manager's one wrong-kind error
        return translator

    def _get(self, name: str, version: int | None) -> FakeTranslator:
        translator = self.translators.get(name)
        if translator is None:
            raise NotFoundError(f"model '{name}' not found")
        if translator.info.state != "READY":
            raise UnavailableError(f"model '{name}' is {translator.info.state.lower()}")
        if version is not None and version != translator.info.version:
            raise NotFoundError(f"model '{name}' version {version} is not loaded")
        return translator

    def list_models(self) -> list[ModelInfo]:
        return [t.info for t in self.translators.values()]


def default_manager() -> FakeManager:
    return FakeManager(
        FakeTranslator(make_info("en-fr", 2)),
        FakeTranslator(make_info("de-en", 1, state="LOADING")),
    )
