# ruff: noqa
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_SEQ2SEQ: _ClassVar[ModelKind]
    MODEL_KIND_TAGGER: _ClassVar[ModelKind]
    MODEL_KIND_STREAMING: _ClassVar[ModelKind]
    MODEL_KIND_CAPTIONER: _ClassVar[ModelKind]

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    MODEL_STATE_LOADING: _ClassVar[ModelState]
    MODEL_STATE_READY: _ClassVar[ModelState]
    MODEL_STATE_UNLOADING: _ClassVar[ModelState]
    MODEL_STATE_UNAVAILABLE: _ClassVar[ModelState]
    MODEL_STATE_FAILED: _ClassVar[ModelState]

class BatchingPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCHING_POLICY_UNSPECIFIED: _ClassVar[BatchingPolicy]
    BATCHING_POLICY_CONTINUOUS: _ClassVar[BatchingPolicy]
    BATCHING_POLICY_STATIC: _ClassVar[BatchingPolicy]
    BATCHING_POLICY_SEQUENTIAL: _ClassVar[BatchingPolicy]
    BATCHING_POLICY_DYNAMIC: _ClassVar[BatchingPolicy]

class StreamingInputType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAMING_INPUT_TYPE_UNSPECIFIED: _ClassVar[StreamingInputType]
    STREAMING_INPUT_TYPE_FLOAT: _ClassVar[StreamingInputType]
    STREAMING_INPUT_TYPE_TOKENS: _ClassVar[StreamingInputType]

class SessionStore(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STORE_UNSPECIFIED: _ClassVar[SessionStore]
    SESSION_STORE_MEMORY: _ClassVar[SessionStore]
    SESSION_STORE_SQLITE: _ClassVar[SessionStore]
    SESSION_STORE_REDIS: _ClassVar[SessionStore]

class SnapshotPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_POLICY_UNSPECIFIED: _ClassVar[SnapshotPolicy]
    SNAPSHOT_POLICY_EVERY_CHUNK: _ClassVar[SnapshotPolicy]
    SNAPSHOT_POLICY_EVERY_N_STEPS: _ClassVar[SnapshotPolicy]
    SNAPSHOT_POLICY_ON_EVICT: _ClassVar[SnapshotPolicy]
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_SEQ2SEQ: ModelKind
MODEL_KIND_TAGGER: ModelKind
MODEL_KIND_STREAMING: ModelKind
MODEL_KIND_CAPTIONER: ModelKind
MODEL_STATE_UNSPECIFIED: ModelState
MODEL_STATE_LOADING: ModelState
MODEL_STATE_READY: ModelState
MODEL_STATE_UNLOADING: ModelState
MODEL_STATE_UNAVAILABLE: ModelState
MODEL_STATE_FAILED: ModelState
BATCHING_POLICY_UNSPECIFIED: BatchingPolicy
BATCHING_POLICY_CONTINUOUS: BatchingPolicy
BATCHING_POLICY_STATIC: BatchingPolicy
BATCHING_POLICY_SEQUENTIAL: BatchingPolicy
BATCHING_POLICY_DYNAMIC: BatchingPolicy
STREAMING_INPUT_TYPE_UNSPECIFIED: StreamingInputType
STREAMING_INPUT_TYPE_FLOAT: StreamingInputType
STREAMING_INPUT_TYPE_TOKENS: StreamingInputType
SESSION_STORE_UNSPECIFIED: SessionStore
SESSION_STORE_MEMORY: SessionStore
SESSION_STORE_SQLITE: SessionStore
SESSION_STORE_REDIS: SessionStore
SNAPSHOT_POLICY_UNSPECIFIED: SnapshotPolicy
SNAPSHOT_POLICY_EVERY_CHUNK: SnapshotPolicy
SNAPSHOT_POLICY_EVERY_N_STEPS: SnapshotPolicy
SNAPSHOT_POLICY_ON_EVICT: SnapshotPolicy

class DecodingOptions(_message.Message):
    __slots__ = ("beam_size", "n_best", "length_penalty", "max_length", "min_length", "return_scores", "sampling_topk", "sampling_topp", "sampling_temperature", "seed", "target_prefix", "repetition_penalty", "no_repeat_ngram_size", "suppress_sequences", "return_attention", "return_alternatives")
    BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    N_BEST_FIELD_NUMBER: _ClassVar[int]
    LENGTH_PENALTY_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    RETURN_SCORES_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TOPK_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TOPP_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TARGET_PREFIX_FIELD_NUMBER: _ClassVar[int]
    REPETITION_PENALTY_FIELD_NUMBER: _ClassVar[int]
    NO_REPEAT_NGRAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    SUPPRESS_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    RETURN_ATTENTION_FIELD_NUMBER: _ClassVar[int]
    RETURN_ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    beam_size: int
    n_best: int
    length_penalty: float
    max_length: int
    min_length: int
    return_scores: bool
    sampling_topk: int
    sampling_topp: float
    sampling_temperature: float
    seed: int
    target_prefix: _containers.RepeatedScalarFieldContainer[str]
    repetition_penalty: float
    no_repeat_ngram_size: int
    suppress_sequences: _containers.RepeatedScalarFieldContainer[str]
    return_attention: bool
    return_alternatives: bool
    def __init__(self, beam_size: _Optional[int] = ..., n_best: _Optional[int] = ..., length_penalty: _Optional[float] = ..., max_length: _Optional[int] = ..., min_length: _Optional[int] = ..., return_scores: _Optional[bool] = ..., sampling_topk: _Optional[int] = ..., sampling_topp: _Optional[float] = ..., sampling_temperature: _Optional[float] = ..., seed: _Optional[int] = ..., target_prefix: _Optional[_Iterable[str]] = ..., repetition_penalty: _Optional[float] = ..., no_repeat_ngram_size: _Optional[int] = ..., suppress_sequences: _Optional[_Iterable[str]] = ..., return_attention: _Optional[bool] = ..., return_alternatives: _Optional[bool] = ...) -> None: ...

class TranslateRequest(_message.Message):
    __slots__ = ("model", "version", "sentences", "options")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    sentences: _containers.RepeatedScalarFieldContainer[str]
    options: DecodingOptions
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., sentences: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[DecodingOptions, _Mapping]] = ...) -> None: ...

class Hypothesis(_message.Message):
    __slots__ = ("text", "tokens", "score", "log_prob", "attention")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LOG_PROB_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    text: str
    tokens: _containers.RepeatedScalarFieldContainer[int]
    score: float
    log_prob: float
    attention: _containers.RepeatedCompositeFieldContainer[TokenAttention]
    def __init__(self, text: _Optional[str] = ..., tokens: _Optional[_Iterable[int]] = ..., score: _Optional[float] = ..., log_prob: _Optional[float] = ..., attention: _Optional[_Iterable[_Union[TokenAttention, _Mapping]]] = ...) -> None: ...

class TokenAttention(_message.Message):
    __slots__ = ("weights", "aligned_position")
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    ALIGNED_POSITION_FIELD_NUMBER: _ClassVar[int]
    weights: _containers.RepeatedScalarFieldContainer[float]
    aligned_position: int
    def __init__(self, weights: _Optional[_Iterable[float]] = ..., aligned_position: _Optional[int] = ...) -> None: ...

class SentenceTranslation(_message.Message):
    __slots__ = ("hypotheses", "decode_steps")
    HYPOTHESES_FIELD_NUMBER: _ClassVar[int]
    DECODE_STEPS_FIELD_NUMBER: _ClassVar[int]
    hypotheses: _containers.RepeatedCompositeFieldContainer[Hypothesis]
    decode_steps: int
    def __init__(self, hypotheses: _Optional[_Iterable[_Union[Hypothesis, _Mapping]]] = ..., decode_steps: _Optional[int] = ...) -> None: ...

class TranslateResponse(_message.Message):
    __slots__ = ("model", "version", "translations")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRANSLATIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    translations: _containers.RepeatedCompositeFieldContainer[SentenceTranslation]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., translations: _Optional[_Iterable[_Union[SentenceTranslation, _Mapping]]] = ...) -> None: ...

class PartialTranslation(_message.Message):
    __slots__ = ("sentence_index", "text", "tokens", "step")
    SENTENCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    sentence_index: int
    text: str
    tokens: _containers.RepeatedScalarFieldContainer[int]
    step: int
    def __init__(self, sentence_index: _Optional[int] = ..., text: _Optional[str] = ..., tokens: _Optional[_Iterable[int]] = ..., step: _Optional[int] = ...) -> None: ...

class TranslateStreamResponse(_message.Message):
    __slots__ = ("partial", "final")
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    partial: PartialTranslation
    final: TranslateResponse
    def __init__(self, partial: _Optional[_Union[PartialTranslation, _Mapping]] = ..., final: _Optional[_Union[TranslateResponse, _Mapping]] = ...) -> None: ...

class Batching(_message.Message):
    __slots__ = ("policy", "max_live_sentences", "max_rows", "max_queue", "max_encoder_batch", "max_batch_size", "max_queue_delay_ms")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_LIVE_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_FIELD_NUMBER: _ClassVar[int]
    MAX_ENCODER_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    policy: BatchingPolicy
    max_live_sentences: int
    max_rows: int
    max_queue: int
    max_encoder_batch: int
    max_batch_size: int
    max_queue_delay_ms: float
    def __init__(self, policy: _Optional[_Union[BatchingPolicy, str]] = ..., max_live_sentences: _Optional[int] = ..., max_rows: _Optional[int] = ..., max_queue: _Optional[int] = ..., max_encoder_batch: _Optional[int] = ..., max_batch_size: _Optional[int] = ..., max_queue_delay_ms: _Optional[float] = ...) -> None: ...

class TranslatorLimits(_message.Message):
    __slots__ = ("max_sentences", "max_source_tokens", "max_beam_size", "max_output_length", "max_prefix_tokens", "max_ngram_size", "max_suppressed_sequences")
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_SOURCE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_PREFIX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_NGRAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SUPPRESSED_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    max_sentences: int
    max_source_tokens: int
    max_beam_size: int
    max_output_length: int
    max_prefix_tokens: int
    max_ngram_size: int
    max_suppressed_sequences: int
    def __init__(self, max_sentences: _Optional[int] = ..., max_source_tokens: _Optional[int] = ..., max_beam_size: _Optional[int] = ..., max_output_length: _Optional[int] = ..., max_prefix_tokens: _Optional[int] = ..., max_ngram_size: _Optional[int] = ..., max_suppressed_sequences: _Optional[int] = ...) -> None: ...

class DecodingDefaults(_message.Message):
    __slots__ = ("beam_size", "n_best", "length_penalty", "max_length", "min_length", "sampling_topk", "sampling_topp", "sampling_temperature", "repetition_penalty", "no_repeat_ngram_size")
    BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    N_BEST_FIELD_NUMBER: _ClassVar[int]
    LENGTH_PENALTY_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TOPK_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TOPP_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    REPETITION_PENALTY_FIELD_NUMBER: _ClassVar[int]
    NO_REPEAT_NGRAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    beam_size: int
    n_best: int
    length_penalty: float
    max_length: int
    min_length: int
    sampling_topk: int
    sampling_topp: float
    sampling_temperature: float
    repetition_penalty: float
    no_repeat_ngram_size: int
    def __init__(self, beam_size: _Optional[int] = ..., n_best: _Optional[int] = ..., length_penalty: _Optional[float] = ..., max_length: _Optional[int] = ..., min_length: _Optional[int] = ..., sampling_topk: _Optional[int] = ..., sampling_topp: _Optional[float] = ..., sampling_temperature: _Optional[float] = ..., repetition_penalty: _Optional[float] = ..., no_repeat_ngram_size: _Optional[int] = ...) -> None: ...

class TranslatorDetails(_message.Message):
    __slots__ = ("source_language", "target_language", "limits", "decoding_defaults")
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DECODING_DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    source_language: str
    target_language: str
    limits: TranslatorLimits
    decoding_defaults: DecodingDefaults
    def __init__(self, source_language: _Optional[str] = ..., target_language: _Optional[str] = ..., limits: _Optional[_Union[TranslatorLimits, _Mapping]] = ..., decoding_defaults: _Optional[_Union[DecodingDefaults, _Mapping]] = ...) -> None: ...

class TaggerLimits(_message.Message):
    __slots__ = ("max_sentences", "max_tokens", "max_top_k")
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOP_K_FIELD_NUMBER: _ClassVar[int]
    max_sentences: int
    max_tokens: int
    max_top_k: int
    def __init__(self, max_sentences: _Optional[int] = ..., max_tokens: _Optional[int] = ..., max_top_k: _Optional[int] = ...) -> None: ...

class TaggerDetails(_message.Message):
    __slots__ = ("language", "labels", "limits", "lowercase", "max_chars")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    LOWERCASE_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    language: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    limits: TaggerLimits
    lowercase: bool
    max_chars: int
    def __init__(self, language: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[TaggerLimits, _Mapping]] = ..., lowercase: _Optional[bool] = ..., max_chars: _Optional[int] = ...) -> None: ...

class ImageSpec(_message.Message):
    __slots__ = ("channels", "height", "width", "tensor_dtype", "encodings", "mean", "std")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    TENSOR_DTYPE_FIELD_NUMBER: _ClassVar[int]
    ENCODINGS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    channels: int
    height: int
    width: int
    tensor_dtype: str
    encodings: _containers.RepeatedScalarFieldContainer[str]
    mean: _containers.RepeatedScalarFieldContainer[float]
    std: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, channels: _Optional[int] = ..., height: _Optional[int] = ..., width: _Optional[int] = ..., tensor_dtype: _Optional[str] = ..., encodings: _Optional[_Iterable[str]] = ..., mean: _Optional[_Iterable[float]] = ..., std: _Optional[_Iterable[float]] = ...) -> None: ...

class CaptionerLimits(_message.Message):
    __slots__ = ("max_images", "max_image_bytes", "max_pixels", "max_beam_size", "max_output_length", "max_prefix_tokens", "max_ngram_size", "max_suppressed_sequences")
    MAX_IMAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_PREFIX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_NGRAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SUPPRESSED_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    max_images: int
    max_image_bytes: int
    max_pixels: int
    max_beam_size: int
    max_output_length: int
    max_prefix_tokens: int
    max_ngram_size: int
    max_suppressed_sequences: int
    def __init__(self, max_images: _Optional[int] = ..., max_image_bytes: _Optional[int] = ..., max_pixels: _Optional[int] = ..., max_beam_size: _Optional[int] = ..., max_output_length: _Optional[int] = ..., max_prefix_tokens: _Optional[int] = ..., max_ngram_size: _Optional[int] = ..., max_suppressed_sequences: _Optional[int] = ...) -> None: ...

class CaptionerDetails(_message.Message):
    __slots__ = ("image", "limits", "decoding_defaults", "vocab_size")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DECODING_DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    image: ImageSpec
    limits: CaptionerLimits
    decoding_defaults: DecodingDefaults
    vocab_size: int
    def __init__(self, image: _Optional[_Union[ImageSpec, _Mapping]] = ..., limits: _Optional[_Union[CaptionerLimits, _Mapping]] = ..., decoding_defaults: _Optional[_Union[DecodingDefaults, _Mapping]] = ..., vocab_size: _Optional[int] = ...) -> None: ...

class SessionLimits(_message.Message):
    __slots__ = ("max_sessions", "max_chunk_steps", "idle_timeout_seconds", "max_pending_chunks")
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_STEPS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_PENDING_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    max_sessions: int
    max_chunk_steps: int
    idle_timeout_seconds: float
    max_pending_chunks: int
    def __init__(self, max_sessions: _Optional[int] = ..., max_chunk_steps: _Optional[int] = ..., idle_timeout_seconds: _Optional[float] = ..., max_pending_chunks: _Optional[int] = ...) -> None: ...

class SessionPersistence(_message.Message):
    __slots__ = ("store", "snapshot", "every_n_steps")
    STORE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EVERY_N_STEPS_FIELD_NUMBER: _ClassVar[int]
    store: SessionStore
    snapshot: SnapshotPolicy
    every_n_steps: int
    def __init__(self, store: _Optional[_Union[SessionStore, str]] = ..., snapshot: _Optional[_Union[SnapshotPolicy, str]] = ..., every_n_steps: _Optional[int] = ...) -> None: ...

class StreamingDetails(_message.Message):
    __slots__ = ("input_type", "features", "vocab_size", "step_outputs", "forecast_horizon", "top_k", "limits", "persistence")
    INPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    STEP_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    FORECAST_HORIZON_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    PERSISTENCE_FIELD_NUMBER: _ClassVar[int]
    input_type: StreamingInputType
    features: int
    vocab_size: int
    step_outputs: _containers.RepeatedScalarFieldContainer[str]
    forecast_horizon: int
    top_k: int
    limits: SessionLimits
    persistence: SessionPersistence
    def __init__(self, input_type: _Optional[_Union[StreamingInputType, str]] = ..., features: _Optional[int] = ..., vocab_size: _Optional[int] = ..., step_outputs: _Optional[_Iterable[str]] = ..., forecast_horizon: _Optional[int] = ..., top_k: _Optional[int] = ..., limits: _Optional[_Union[SessionLimits, _Mapping]] = ..., persistence: _Optional[_Union[SessionPersistence, _Mapping]] = ...) -> None: ...

class ModelMetadata(_message.Message):
    __slots__ = ("name", "version", "kind", "available_versions", "state", "description", "execution_providers", "batching", "translator", "tagger", "captioner", "streaming")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    TRANSLATOR_FIELD_NUMBER: _ClassVar[int]
    TAGGER_FIELD_NUMBER: _ClassVar[int]
    CAPTIONER_FIELD_NUMBER: _ClassVar[int]
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    kind: ModelKind
    available_versions: _containers.RepeatedScalarFieldContainer[int]
    state: ModelState
    description: str
    execution_providers: _containers.RepeatedScalarFieldContainer[str]
    batching: Batching
    translator: TranslatorDetails
    tagger: TaggerDetails
    captioner: CaptionerDetails
    streaming: StreamingDetails
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., available_versions: _Optional[_Iterable[int]] = ..., state: _Optional[_Union[ModelState, str]] = ..., description: _Optional[str] = ..., execution_providers: _Optional[_Iterable[str]] = ..., batching: _Optional[_Union[Batching, _Mapping]] = ..., translator: _Optional[_Union[TranslatorDetails, _Mapping]] = ..., tagger: _Optional[_Union[TaggerDetails, _Mapping]] = ..., captioner: _Optional[_Union[CaptionerDetails, _Mapping]] = ..., streaming: _Optional[_Union[StreamingDetails, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelMetadata]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelMetadata, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class TagTokens(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tokens: _Optional[_Iterable[str]] = ...) -> None: ...

class TagRequest(_message.Message):
    __slots__ = ("model", "version", "texts", "sentences", "top_k")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    texts: _containers.RepeatedScalarFieldContainer[str]
    sentences: _containers.RepeatedCompositeFieldContainer[TagTokens]
    top_k: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., texts: _Optional[_Iterable[str]] = ..., sentences: _Optional[_Iterable[_Union[TagTokens, _Mapping]]] = ..., top_k: _Optional[int] = ...) -> None: ...

class LabelProbability(_message.Message):
    __slots__ = ("label", "probability")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    label: str
    probability: float
    def __init__(self, label: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class TokenTag(_message.Message):
    __slots__ = ("token", "label", "probability", "top")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    token: str
    label: str
    probability: float
    top: _containers.RepeatedCompositeFieldContainer[LabelProbability]
    def __init__(self, token: _Optional[str] = ..., label: _Optional[str] = ..., probability: _Optional[float] = ..., top: _Optional[_Iterable[_Union[LabelProbability, _Mapping]]] = ...) -> None: ...

class TaggedSentence(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenTag]
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenTag, _Mapping]]] = ...) -> None: ...

class TagResponse(_message.Message):
    __slots__ = ("model", "version", "sentences")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    sentences: _containers.RepeatedCompositeFieldContainer[TaggedSentence]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., sentences: _Optional[_Iterable[_Union[TaggedSentence, _Mapping]]] = ...) -> None: ...

class ImageTensor(_message.Message):
    __slots__ = ("shape", "dtype", "data")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: str
    data: bytes
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class CaptionImage(_message.Message):
    __slots__ = ("encoded", "tensor")
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    encoded: bytes
    tensor: ImageTensor
    def __init__(self, encoded: _Optional[bytes] = ..., tensor: _Optional[_Union[ImageTensor, _Mapping]] = ...) -> None: ...

class CaptionRequest(_message.Message):
    __slots__ = ("model", "version", "images", "options")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    images: _containers.RepeatedCompositeFieldContainer[CaptionImage]
    options: DecodingOptions
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., images: _Optional[_Iterable[_Union[CaptionImage, _Mapping]]] = ..., options: _Optional[_Union[DecodingOptions, _Mapping]] = ...) -> None: ...

class ImageCaptions(_message.Message):
    __slots__ = ("hypotheses", "decode_steps")
    HYPOTHESES_FIELD_NUMBER: _ClassVar[int]
    DECODE_STEPS_FIELD_NUMBER: _ClassVar[int]
    hypotheses: _containers.RepeatedCompositeFieldContainer[Hypothesis]
    decode_steps: int
    def __init__(self, hypotheses: _Optional[_Iterable[_Union[Hypothesis, _Mapping]]] = ..., decode_steps: _Optional[int] = ...) -> None: ...

class CaptionResponse(_message.Message):
    __slots__ = ("model", "version", "captions")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    captions: _containers.RepeatedCompositeFieldContainer[ImageCaptions]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., captions: _Optional[_Iterable[_Union[ImageCaptions, _Mapping]]] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("model", "version", "session_id", "keep", "resume_from", "session_token")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    RESUME_FROM_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    session_id: str
    keep: bool
    resume_from: int
    session_token: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., session_id: _Optional[str] = ..., keep: _Optional[bool] = ..., resume_from: _Optional[int] = ..., session_token: _Optional[str] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("values", "tokens", "text")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    values: FloatValues
    tokens: TokenIds
    text: str
    def __init__(self, values: _Optional[_Union[FloatValues, _Mapping]] = ..., tokens: _Optional[_Union[TokenIds, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class FloatValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class TokenIds(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("open", "chunk", "top_k")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    open: OpenSessionRequest
    chunk: Chunk
    top_k: int
    def __init__(self, open: _Optional[_Union[OpenSessionRequest, _Mapping]] = ..., chunk: _Optional[_Union[Chunk, _Mapping]] = ..., top_k: _Optional[int] = ...) -> None: ...

class PredictStepRequest(_message.Message):
    __slots__ = ("model", "version", "session_id", "chunk", "top_k", "session_token")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    session_id: str
    chunk: Chunk
    top_k: int
    session_token: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., session_id: _Optional[str] = ..., chunk: _Optional[_Union[Chunk, _Mapping]] = ..., top_k: _Optional[int] = ..., session_token: _Optional[str] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("token", "id", "probability")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    token: str
    id: int
    probability: float
    def __init__(self, token: _Optional[str] = ..., id: _Optional[int] = ..., probability: _Optional[float] = ...) -> None: ...

class StepOutput(_message.Message):
    __slots__ = ("forecast", "candidates", "surprise_bits")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    SURPRISE_BITS_FIELD_NUMBER: _ClassVar[int]
    forecast: _containers.RepeatedScalarFieldContainer[float]
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    surprise_bits: float
    def __init__(self, forecast: _Optional[_Iterable[float]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., surprise_bits: _Optional[float] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("session_id", "first_step", "position", "steps", "session")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_STEP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    first_step: int
    position: int
    steps: _containers.RepeatedCompositeFieldContainer[StepOutput]
    session: SessionInfo
    def __init__(self, session_id: _Optional[str] = ..., first_step: _Optional[int] = ..., position: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[StepOutput, _Mapping]]] = ..., session: _Optional[_Union[SessionInfo, _Mapping]] = ...) -> None: ...

class PredictManyRequest(_message.Message):
    __slots__ = ("request_id", "steps")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    steps: _containers.RepeatedCompositeFieldContainer[PredictStepRequest]
    def __init__(self, request_id: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PredictStepRequest, _Mapping]]] = ...) -> None: ...

class StepError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class PredictManyResult(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: PredictResponse
    error: StepError
    def __init__(self, response: _Optional[_Union[PredictResponse, _Mapping]] = ..., error: _Optional[_Union[StepError, _Mapping]] = ...) -> None: ...

class PredictManyResponse(_message.Message):
    __slots__ = ("request_id", "results")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    results: _containers.RepeatedCompositeFieldContainer[PredictManyResult]
    def __init__(self, request_id: _Optional[int] = ..., results: _Optional[_Iterable[_Union[PredictManyResult, _Mapping]]] = ...) -> None: ...

class SessionRef(_message.Message):
    __slots__ = ("model", "version", "session_id", "session_token")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    session_id: str
    session_token: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., session_id: _Optional[str] = ..., session_token: _Optional[str] = ...) -> None: ...

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "model", "version", "position", "resumed", "state_bytes", "pending_chunks", "replay", "session_token")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    STATE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PENDING_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    model: str
    version: int
    position: int
    resumed: bool
    state_bytes: int
    pending_chunks: int
    replay: PredictResponse
    session_token: str
    def __init__(self, session_id: _Optional[str] = ..., model: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., resumed: _Optional[bool] = ..., state_bytes: _Optional[int] = ..., pending_chunks: _Optional[int] = ..., replay: _Optional[_Union[PredictResponse, _Mapping]] = ..., session_token: _Optional[str] = ...) -> None: ...
