"""The client side of the protobuf <-> value-type conversions.

The server's converters (server/api/convert.py) are the other half; it
re-exports these so that round-trip tests keep one import.
"""

from __future__ import annotations

import math

from seqserve.client.types import DecodingOptions, Hypothesis, PartialUpdate, SentenceResult
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb


def decoding_options_to_proto(options: DecodingOptions) -> pb.DecodingOptions:
    """Only fields the caller set go on the wire."""
    msg = pb.DecodingOptions(
        return_scores=options.return_scores,
        suppress_sequences=list(options.suppress_sequences),
        target_prefix=list(options.target_prefix),
    )
    for name in _SCALAR_OPTIONS:
        value = getattr(options, name)
        if value is not None:
            setattr(msg, name, value)
    for name in ("return_attention", "return_alternatives"):
        if getattr(options, name):
            setattr(msg, name, True)
    return msg


_SCALAR_OPTIONS = (
    "beam_size", "n_best", "length_penalty", "max_length", "min_length", "sampling_topk",
    "sampling_topp", "sampling_temperature", "seed", "repetition_penalty",
    "no_repeat_ngram_size",
)


def hypothesis_from_proto(msg: pb.Hypothesis) -> Hypothesis:
    """Scores the server left out (return_scores=false) come back as NaN."""
    return Hypothesis(
        text=msg.text,
        tokens=list(msg.tokens),
        score=msg.score if msg.HasField("score") else math.nan,
        log_prob=msg.log_prob if msg.HasField("log_prob") else math.nan,
        attention=[list(a.weights) for a in msg.attention] or None,
    )


def sentence_from_proto(msg: pb.SentenceTranslation) -> SentenceResult:
    return SentenceResult(
        hypotheses=[hypothesis_from_proto(h) for h in msg.hypotheses],
        decode_steps=msg.decode_steps,
    )


def partial_from_proto(msg: pb.PartialTranslation) -> PartialUpdate:
    return PartialUpdate(
        sentence_index=msg.sentence_index, text=msg.text, tokens=list(msg.tokens), step=msg.step
    )
