"""A loaded seq2seq model: tokenizer + graphs + its scheduler, behind Seq2SeqHandle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from seqserve.server.engine.blocking_decode import decode_blocking
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent, PartialEvent
from seqserve.server.engine.option_tokens import attention_lists, with_tokens
from seqserve.server.engine.options import DecodingOptions, ResolvedOptions
from seqserve.server.engine.results import Hypothesis, PartialUpdate, SentenceResult
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.engine.seq2seq_graphs import Seq2SeqGraphs
from seqserve.server.engine.waiting import submitted
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.seq2seq import check_sentence_count, check_sentences
from seqserve.server.repository.repository import ModelVersion
from seqserve.server.repository.tokenizer import PairTokenizer

# No source token covers more characters than this, so a sentence longer than
# max_source_tokens * CHARS_PER_TOKEN_BOUND characters is over the token limit
# whatever it says: it is refused without tokenizing it (one huge sentence
# must not cost seconds of CPU).
CHARS_PER_TOKEN_BOUND = 32
# Requests with more characters than this are tokenized on a worker thread, so
# the event loop (every other RPC, health included) never waits on them.
INLINE_TOKENIZE_CHARS = 4096


class Seq2SeqModel:
    def __init__(
        self,
        version: ModelVersion,
        *,
        policy: str | None = None,
        available_versions: list[int] | None = None,
    ) -> None:
        config = version.config
        if policy is not None:
            batching = config.batching.model_copy(update={"policy": policy})
            config = config.model_copy(update={"batching": batching})
        self.config = config
        self.tokenizer = PairTokenizer(version.path, config.tokenizer)
        self.graphs = Seq2SeqGraphs(version.path, config)
        vocab = self.tokenizer.target.vocab_size
        self.scheduler = DecodeScheduler(
            version.name, self.graphs, config.batching,
            bos_id=config.tokenizer.bos_id, eos_id=config.tokenizer.eos_id, vocab_size=vocab,
        )
        self.info = ModelInfo(
            name=version.name, version=version.version, kind=config.kind, config=config,
            providers=list(self.graphs.providers),
            available_versions=list(available_versions or [version.version]),
        )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()

    # ---- validation at the edge ---------------------------------------------
    def tokenize(self, sentences: list[str]) -> list[list[int]]:
        limits = self.config.limits
        check_sentences(sentences)  # the kind's rules, one message for both APIs
        check_sentence_count(len(sentences), limits)
        most_chars = limits.max_source_tokens * CHARS_PER_TOKEN_BOUND
        for i, text in enumerate(sentences):
            if len(text) > most_chars:
                raise InvalidArgumentError(
                    f"sentence {i} has {len(text)} characters, over the {most_chars} that "
                    f"max_source_tokens={limits.max_source_tokens} allows"
                )
        ids = []
        for i, text in enumerate(sentences):
            encoded = self.tokenizer.encode_source(text)
            if len(encoded) > limits.max_source_tokens:
                raise InvalidArgumentError(
                    f"sentence {i} has {len(encoded)} tokens, over "
                    f"max_source_tokens={limits.max_source_tokens}"
                )
            ids.append(encoded)
        return ids

    def resolve(self, options: DecodingOptions, sentences: int = 1) -> ResolvedOptions:
        resolved = options.resolve(self.config.decoding, self.config.limits)
        limits = self.config.limits
        return with_tokens(
            resolved, sentences, self.tokenizer.target.encode,
            max_prefix_tokens=limits.max_prefix_tokens,
            vocab_size=self.tokenizer.target.vocab_size, eos_id=self.config.tokenizer.eos_id,
            has_attention=self.graphs.has_attention,
        )

    def results(self, event: DoneEvent, options: ResolvedOptions) -> list[SentenceResult]:
        return [
            SentenceResult(
                hypotheses=[
                    Hypothesis(
                        text=self.tokenizer.decode_target(h.tokens), tokens=h.tokens,
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

    # ---- async API (Seq2SeqHandle) -------------------------------------------
    async def translate(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None
    ) -> list[SentenceResult]:
        final: list[SentenceResult] = []
        async for item in self._run(sentences, options, deadline, partials=False):
            if isinstance(item, list):
                final = item
        return final

    def translate_stream(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None
    ) -> AsyncIterator[PartialUpdate | list[SentenceResult]]:
        return self._run(sentences, options, deadline, partials=True)

    async def _run(
        self, sentences: list[str], options: DecodingOptions, deadline: float | None,
        *, partials: bool,
    ) -> AsyncIterator[PartialUpdate | list[SentenceResult]]:
        resolved = self.resolve(options, len(sentences))
        if sum(len(text) for text in sentences) > INLINE_TOKENIZE_CHARS:
            sources = await asyncio.to_thread(self.tokenize, sentences)
        else:
            sources = self.tokenize(sentences)
        job = DecodeJob(sources, resolved, deadline=deadline, want_partials=partials)
        with submitted(self.scheduler, job) as events:
            while True:
                event = await events.get()
                if isinstance(event, PartialEvent):
                    yield PartialUpdate(
                        event.sentence_index, self.tokenizer.decode_target(event.tokens),
                        event.tokens, event.step,
                    )
                elif isinstance(event, ErrorEvent):
                    raise event.error
                else:
                    yield self.results(event, resolved)
                    return

    # ---- blocking API (export verification, benchmarks) ----------------------
    def decode_ids_blocking(
        self, sources: list[list[int]], options: DecodingOptions, *, chunk: int = 16
    ) -> list[SentenceResult]:
        """Decode token ids without asyncio; chunks join the batch as separate jobs."""
        return decode_blocking(
            self.scheduler, sources, self.resolve(options), chunk, self.results
        )
