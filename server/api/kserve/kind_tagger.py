"""Taggers over KServe v2.

    TEXT           BYTES [B, 1]   a sentence per row, split on whitespace   } exactly
    TOKENS         BYTES [B, T]   pre-tokenised rows, padded with "" at end } one of them
    LABELS         BYTES [B, T]   one label per token, "" past a row's end
    PROBABILITIES  FP32  [B, T]   the label's probability, 0 past a row's end
"""

from __future__ import annotations

import numpy as np

from seqserve.server.api.kserve.kind_seq2seq import decode_text
from seqserve.server.api.kserve.kinds import InferCall, InferOutcome, Signature, TensorSpec
from seqserve.server.api.kserve.tensors import Tensor, bytes_tensor
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds import TAGGER, TaggerHandle

TEXT, TOKENS, LABELS, PROBABILITIES = "TEXT", "TOKENS", "LABELS", "PROBABILITIES"


def _sentences(call: InferCall) -> list[list[str]]:
    given = [name for name in (TEXT, TOKENS) if name in call.inputs]
    if len(given) != 1:
        raise InvalidArgumentError(
            f"send exactly one of the inputs '{TEXT}' or '{TOKENS}' (got {given or 'none'})"
        )
    if given[0] == TEXT:
        rows = [text.split() for text in decode_text(call.inputs[TEXT])]
    else:
        tensor = call.inputs[TOKENS]
        if tensor.data.ndim != 2:
            raise InvalidArgumentError(f"input '{TOKENS}' must be [batch, tokens]")
        rows = []
        for r in range(tensor.data.shape[0]):
            flat = Tensor(TOKENS, "BYTES", tensor.data[r])
            tokens = decode_text(flat)
            while tokens and tokens[-1] == "":  # trailing padding of short rows
                tokens.pop()
            rows.append(tokens)
    return rows  # empty rows and limits: the kind's rules, in the engine's validate


class TaggerAdapter:
    platform = TAGGER.platform

    def signature(self, info: ModelInfo) -> Signature:
        config = info.config
        return Signature(
            inputs=(
                TensorSpec(TEXT, "BYTES", (1,), optional=True),
                TensorSpec(TOKENS, "BYTES", (-1,), optional=True,
                           max_variable=config.limits.max_tokens, limit="max_tokens"),
            ),
            outputs=(
                TensorSpec(LABELS, "BYTES", (-1,)), TensorSpec(PROBABILITIES, "FP32", (-1,)),
            ),
            max_batch_size=config.limits.max_sentences, batch_limit="max_sentences",
            max_queue_delay_us=int(config.batching.max_queue_delay_ms * 1000),
        )

    async def infer(self, handle: TaggerHandle, call: InferCall) -> InferOutcome:
        sentences = _sentences(call)
        tagged = await handle.tag(sentences, deadline=call.deadline)
        labels = bytes_tensor(LABELS, [[t.label for t in row] for row in tagged])
        probs = np.zeros(labels.data.shape, dtype=np.float32)
        for r, row in enumerate(tagged):
            probs[r, : len(row)] = [t.probability for t in row]
        return InferOutcome([labels, Tensor(PROBABILITIES, "FP32", probs)], rows=len(sentences))

    def forget(self, model: str) -> None:
        return None
