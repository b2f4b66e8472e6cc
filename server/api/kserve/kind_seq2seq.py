"""Translators (seq2seq) over KServe v2.

    TEXT        BYTES [B, 1]         one source sentence per row ([B] accepted too)
    HYPOTHESES  BYTES [B, n_best]    best first
    SCORES      FP32  [B, n_best]    length-normalised log probabilities

Decoding options are request parameters with the domain API's names and
ranges: beam_size, n_best, length_penalty, max_length, min_length,
sampling_topk, sampling_topp, sampling_temperature, seed, repetition_penalty,
no_repeat_ngram_size, return_alternatives, return_attention, and the text
options target_prefix / suppress_sequences: a plain string (one text), or a
JSON list of strings (target_prefix: one per sentence).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from seqserve.server.api.kserve.kinds import InferCall, InferOutcome, Signature, TensorSpec
from seqserve.server.api.kserve.tensors import Tensor, bytes_tensor
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import PartialUpdate, SentenceResult
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds import SEQ2SEQ, Seq2SeqHandle

TEXT, HYPOTHESES, SCORES, ATTENTION = "TEXT", "HYPOTHESES", "SCORES", "ATTENTION"


def decode_text(tensor: Tensor) -> list[str]:
    """Rows of a BYTES [B] or [B, 1] tensor as UTF-8 strings."""
    items = tensor.data.reshape(-1)
    texts = []
    for index, item in enumerate(items):
        try:
            texts.append(bytes(item).decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidArgumentError(
                f"input '{tensor.name}' element {index} is not valid UTF-8"
            ) from None
    return texts


def options_from_parameters(call: InferCall) -> DecodingOptions:
    p = call.params
    return DecodingOptions(
        beam_size=p.int("beam_size"),
        n_best=p.int("n_best"),
        length_penalty=p.float("length_penalty"),
        max_length=p.int("max_length"),
        min_length=p.int("min_length"),
        sampling_topk=p.int("sampling_topk"),
        sampling_topp=p.float("sampling_topp"),
        sampling_temperature=p.float("sampling_temperature"),
        seed=p.int("seed"),
        repetition_penalty=p.float("repetition_penalty"),
        no_repeat_ngram_size=p.int("no_repeat_ngram_size"),
        return_alternatives=bool(p.bool("return_alternatives")),
        return_attention=bool(p.bool("return_attention")),
        target_prefix=p.texts("target_prefix"),
        suppress_sequences=p.texts("suppress_sequences"),
    )


def nbest_outputs(name: str, results: list[SentenceResult], width: int) -> list[Tensor]:
    """`name` BYTES [B, width] texts and SCORES FP32 [B, width]; "" / NaN pad short lists."""
    texts = [[h.text for h in r.hypotheses[:width]] for r in results]
    scores = np.full((len(results), width), np.nan, dtype=np.float32)
    for row, result in enumerate(results):
        for col, hyp in enumerate(result.hypotheses[:width]):
            scores[row, col] = hyp.score
    padded = [row + [""] * (width - len(row)) for row in texts]
    outputs = [bytes_tensor(name, padded), Tensor(SCORES, "FP32", scores)]
    if any(h.attention is not None for r in results for h in r.hypotheses):
        outputs.append(attention_output(results, width))
    return outputs


def attention_output(results: list[SentenceResult], width: int) -> Tensor:
    """ATTENTION FP32 [B, width, tokens, source positions], zero-padded (return_attention)."""
    hyps = [h for r in results for h in r.hypotheses[:width]]
    tokens = max((len(h.attention or []) for h in hyps), default=0)
    source = max((len(row) for h in hyps for row in h.attention or []), default=0)
    weights = np.zeros((len(results), width, tokens, source), dtype=np.float32)
    for b, result in enumerate(results):
        for n, hyp in enumerate(result.hypotheses[:width]):
            for t, row in enumerate(hyp.attention or []):
                weights[b, n, t, : len(row)] = row
    return Tensor(ATTENTION, "FP32", weights)


class Seq2SeqAdapter:
    platform = SEQ2SEQ.platform

    def signature(self, info: ModelInfo) -> Signature:
        config = info.config
        return Signature(
            inputs=(TensorSpec(TEXT, "BYTES", (1,)),),
            outputs=(TensorSpec(HYPOTHESES, "BYTES", (-1,)), TensorSpec(SCORES, "FP32", (-1,)),
                     # Only sent when the request sets return_attention.
                     TensorSpec(ATTENTION, "FP32", (-1, -1, -1), optional=True)),
            max_batch_size=config.limits.max_sentences, batch_limit="max_sentences",
        )

    async def infer(self, handle: Seq2SeqHandle, call: InferCall) -> InferOutcome:
        sentences = decode_text(call.inputs[TEXT])
        options = options_from_parameters(call)
        config = handle.info.config
        resolved = options.resolve(config.decoding, config.limits)  # INVALID_ARGUMENT early
        results = await handle.translate(sentences, options, deadline=call.deadline)
        return InferOutcome(nbest_outputs(HYPOTHESES, results, resolved.n_best), len(sentences))

    async def infer_stream(
        self, handle: Seq2SeqHandle, call: InferCall
    ) -> AsyncIterator[PartialUpdate | InferOutcome]:
        """Partial hypotheses, then the outcome ModelInfer would give (stream_partials)."""
        sentences = decode_text(call.inputs[TEXT])
        options = options_from_parameters(call)
        config = handle.info.config
        resolved = options.resolve(config.decoding, config.limits)
        async for item in handle.translate_stream(sentences, options, deadline=call.deadline):
            if isinstance(item, PartialUpdate):
                yield item
            else:
                yield InferOutcome(nbest_outputs(HYPOTHESES, item, resolved.n_best),
                                   len(sentences))

    def forget(self, model: str) -> None:
        return None
