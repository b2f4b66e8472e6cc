"""The kind-specific part of ModelMetadata (the `details` oneof) and its Batching.

What a client of each RPC needs to build a valid request: what the model takes,
its limits and its defaults. Pure functions of the ModelInfo: the model's config
plus the few facts only the loaded model knows (tagger labels, caption
vocabulary size, forecast horizon).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.kinds import KINDS, resolve
from seqserve.server.repository.image_input import FORMATS

IMAGE_TENSOR_DTYPE = "float32"
"""The one ImageTensor dtype captioners take (image_input.check_tensor)."""


def enum_value(enum: EnumTypeWrapper, prefix: str, name: str) -> int:
    """Engine strings ("seq2seq", "READY") -> proto enum values; unknown -> UNSPECIFIED (0)."""
    try:
        return int(enum.Value(f"{prefix}_{name.upper()}"))
    except ValueError:
        return 0


def batching(config: Any) -> pb.Batching:
    """Each kind's batching config has its own knobs: fields it lacks read 0."""
    spec = config.batching
    return pb.Batching(
        policy=enum_value(pb.BatchingPolicy, "BATCHING_POLICY", spec.policy),
        max_live_sentences=getattr(spec, "max_live_sentences", 0),
        max_rows=getattr(spec, "max_rows", 0),
        max_queue=spec.max_queue,
        max_encoder_batch=getattr(spec, "max_encoder_batch", 0),
        max_batch_size=getattr(spec, "max_batch_size", 0),
        max_queue_delay_ms=getattr(spec, "max_queue_delay_ms", 0.0),
    )


def decoding_defaults(config: Any) -> pb.DecodingDefaults:
    defaults = config.decoding
    return pb.DecodingDefaults(
        beam_size=defaults.beam_size,
        n_best=defaults.n_best,
        length_penalty=defaults.length_penalty,
        max_length=defaults.max_length,
        min_length=defaults.min_length,
        sampling_topk=defaults.sampling_topk,
        sampling_topp=defaults.sampling_topp,
        sampling_temperature=defaults.sampling_temperature,
        repetition_penalty=defaults.repetition_penalty,
        no_repeat_ngram_size=defaults.no_repeat_ngram_size,
    )


def translator(info: ModelInfo) -> pb.TranslatorDetails:
    config = info.config
    limits = config.limits
    return pb.TranslatorDetails(
        source_language=config.source_language,
        target_language=config.target_language,
        limits=pb.TranslatorLimits(
            max_sentences=limits.max_sentences,
            max_source_tokens=limits.max_source_tokens,
            max_beam_size=limits.max_beam_size,
            max_output_length=limits.max_output_length,
            max_prefix_tokens=limits.max_prefix_tokens,
            max_ngram_size=limits.max_ngram_size,
            max_suppressed_sequences=limits.max_suppressed_sequences,
        ),
        decoding_defaults=decoding_defaults(config),
    )


def tagger(info: ModelInfo) -> pb.TaggerDetails:
    config = info.config
    limits = config.limits
    return pb.TaggerDetails(
        language=config.language,
        labels=info.labels,
        limits=pb.TaggerLimits(
            max_sentences=limits.max_sentences,
            max_tokens=limits.max_tokens,
            max_top_k=limits.max_top_k,
        ),
        lowercase=config.vocab.lowercase,
        max_chars=config.vocab.max_chars,
    )


def captioner(info: ModelInfo) -> pb.CaptionerDetails:
    config = info.config
    pre, limits = config.preprocessing, config.limits
    return pb.CaptionerDetails(
        image=pb.ImageSpec(
            channels=pre.channels,
            height=pre.height,
            width=pre.width,
            tensor_dtype=IMAGE_TENSOR_DTYPE,
            encodings=FORMATS,
            mean=pre.mean,
            std=pre.std,
        ),
        limits=pb.CaptionerLimits(
            max_images=limits.max_images,
            max_image_bytes=limits.max_image_bytes,
            max_pixels=limits.max_pixels,
            max_beam_size=limits.max_beam_size,
            max_output_length=limits.max_output_length,
            max_prefix_tokens=limits.max_prefix_tokens,
            max_ngram_size=limits.max_ngram_size,
            max_suppressed_sequences=limits.max_suppressed_sequences,
        ),
        decoding_defaults=decoding_defaults(config),
        vocab_size=info.vocab_size,
    )


def step_outputs(present: Any) -> list[str]:
    """The StepOutput fields the model's `present` section fills, in field order."""
    fields = [("forecast", present.forecast), ("candidates", present.top_ids),
              ("surprise_bits", present.surprise)]
    return [name for name, output in fields if output]


def streaming(info: ModelInfo) -> pb.StreamingDetails:
    config = info.config
    spec, limits, sessions = config.input, config.limits, config.sessions
    tokens = spec.type == "tokens"
    return pb.StreamingDetails(
        input_type=enum_value(pb.StreamingInputType, "STREAMING_INPUT_TYPE", spec.type),
        features=0 if tokens else spec.features,
        vocab_size=spec.vocab_size if tokens else 0,
        step_outputs=step_outputs(config.present),
        forecast_horizon=info.forecast_horizon if config.present.forecast else 0,
        top_k=config.present.top_k if config.present.top_ids else 0,
        limits=pb.SessionLimits(
            max_sessions=limits.max_sessions,
            max_chunk_steps=limits.max_chunk_steps,
            idle_timeout_seconds=limits.idle_timeout_seconds,
            max_pending_chunks=limits.max_pending_chunks,
        ),
        persistence=pb.SessionPersistence(
            store=enum_value(pb.SessionStore, "SESSION_STORE", sessions.store),
            snapshot=enum_value(pb.SnapshotPolicy, "SNAPSHOT_POLICY", sessions.snapshot),
            every_n_steps=sessions.every_n_steps if sessions.snapshot == "every_n_steps" else 0,
        ),
    )


def _details() -> dict[str, tuple[str, Callable[[ModelInfo], Message]]]:
    # Each kind's KindSpec.details names its field and builder (in this module or
    # its own); the registry keeps protobuf out of everything below api/.
    return {name: (field, resolve(builder)) for name, spec in KINDS.items()
            for field, builder in [spec.details]}


DETAILS = _details()
"""Model kind -> (ModelMetadata.details field, its builder), from the kind registry."""


def set_details(msg: pb.ModelMetadata, info: ModelInfo) -> None:
    """Fill msg's `details` oneof for the model's kind (an unknown kind leaves it unset)."""
    if info.kind in DETAILS:
        field, build = DETAILS[info.kind]
        getattr(msg, field).CopyFrom(build(info))
