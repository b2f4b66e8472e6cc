"""protobuf <-> engine objects, and the request-shape checks done at the edge.

Everything here is a pure function: no I/O, no engine calls, so each rule is
tested without a server. The request rules themselves are the kind's
(server/kinds/): called here before the request can reach a queue, and by
the engine for every API; limits that need tokenization are the engine's.
The client halves (to_proto of options, from_proto of results) are in
seqserve.client.convert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import model_details
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import Hypothesis, PartialUpdate, SentenceResult
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds import seq2seq as seq2seq_kind

# ---------------------------------------------------------------- validation


def validate_model_ref(model: str, version: int) -> int | None:
    """Check a (model, version) pair from a request; returns the version or None (latest)."""
    if not model:
        raise InvalidArgumentError("model is required: set the model name")
    if version < 0:
        raise InvalidArgumentError(f"version must be >= 0 (0 = latest), got {version}")
    return version or None


# The seq2seq kind's own rules (server/kinds/seq2seq.py): the engine's tokenize
# applies the same functions, so KServe requests get the same messages.
validate_sentences = seq2seq_kind.check_sentences
check_sentence_limit = seq2seq_kind.check_sentence_count


# ---------------------------------------------------------------- options


def decoding_options_from_proto(msg: pb.DecodingOptions) -> DecodingOptions:
    """Unset proto fields stay None, i.e. "use the model's default"."""
    return DecodingOptions(
        beam_size=_optional(msg, "beam_size"),
        n_best=_optional(msg, "n_best"),
        length_penalty=_optional(msg, "length_penalty"),
        max_length=_optional(msg, "max_length"),
        min_length=_optional(msg, "min_length"),
        return_scores=msg.return_scores if msg.HasField("return_scores") else True,
        sampling_topk=_optional(msg, "sampling_topk"),
        sampling_topp=_optional(msg, "sampling_topp"),
        sampling_temperature=_optional(msg, "sampling_temperature"),
        seed=_optional(msg, "seed"),
        repetition_penalty=_optional(msg, "repetition_penalty"),
        no_repeat_ngram_size=_optional(msg, "no_repeat_ngram_size"),
        suppress_sequences=tuple(msg.suppress_sequences),
        target_prefix=tuple(msg.target_prefix),
        return_attention=msg.return_attention,
        return_alternatives=msg.return_alternatives,
    )


def _optional(msg: pb.DecodingOptions, name: str) -> Any:
    return getattr(msg, name) if msg.HasField(name) else None


# ---------------------------------------------------------------- results


def hypothesis_to_proto(hyp: Hypothesis, *, return_scores: bool) -> pb.Hypothesis:
    msg = pb.Hypothesis(text=hyp.text, tokens=hyp.tokens)
    for weights in hyp.attention or ():
        aligned = max(range(len(weights)), key=weights.__getitem__) if weights else 0
        msg.attention.add(weights=weights, aligned_position=aligned)
    if return_scores:
        msg.score = hyp.score
        msg.log_prob = hyp.log_prob
    return msg


def sentence_to_proto(result: SentenceResult, *, return_scores: bool) -> pb.SentenceTranslation:
    return pb.SentenceTranslation(
        hypotheses=[hypothesis_to_proto(h, return_scores=return_scores) for h in result.hypotheses],
        decode_steps=result.decode_steps,
    )


def translate_response(
    info: ModelInfo, results: Sequence[SentenceResult], *, return_scores: bool
) -> pb.TranslateResponse:
    return pb.TranslateResponse(
        model=info.name,
        version=info.version,
        translations=[sentence_to_proto(r, return_scores=return_scores) for r in results],
    )


def partial_to_proto(update: PartialUpdate) -> pb.TranslateStreamResponse:
    return pb.TranslateStreamResponse(
        partial=pb.PartialTranslation(
            sentence_index=update.sentence_index,
            text=update.text,
            tokens=update.tokens,
            step=update.step,
        )
    )


def final_to_proto(
    info: ModelInfo, results: Sequence[SentenceResult], *, return_scores: bool
) -> pb.TranslateStreamResponse:
    return pb.TranslateStreamResponse(
        final=translate_response(info, results, return_scores=return_scores)
    )


# ---------------------------------------------------------------- model metadata


def model_metadata(info: ModelInfo) -> pb.ModelMetadata:
    """The common fields; the kind-specific `details` and Batching are model_details'."""
    msg = pb.ModelMetadata(
        name=info.name,
        version=info.version,
        kind=model_details.enum_value(pb.ModelKind, "MODEL_KIND", info.kind),
        available_versions=sorted(info.available_versions),
        state=model_details.enum_value(pb.ModelState, "MODEL_STATE", info.state),
        description=info.config.description,
        execution_providers=info.providers,
        batching=model_details.batching(info.config),
    )
    model_details.set_details(msg, info)
    return msg
