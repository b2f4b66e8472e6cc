"""The model-directory contract: the schema of `config.yaml`.

export/ writes it and server/ reads it, both through these pydantic models, so
a model directory that one side accepts the other accepts too. Every field has
a docstring and a range check; unknown keys are errors (a typo in a config
should fail at load time with the key named, not be silently ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_FILE = "config.yaml"
MANIFEST_FILE = "manifest.json"


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Seq2SeqTensors(StrictModel):
    """Tensor names of the encoder/decoder-step graphs (the decoder-step contract).

    encoder: (src_tokens int64[B,S], src_lengths int64[B])
             -> (memory float[B,S,M], init_h float[L,B,H], init_c float[L,B,H])
    decoder: (prev_tokens int64[N], h float[L,N,H], c float[L,N,H],
              memory float[R,S,M], memory_mask bool[R,S], memory_index int64[N], k int64[1])
             -> (topk_logprobs float[N,k], topk_ids int64[N,k], h_out, c_out, attention float[N,S])

    `memory_index` maps each hypothesis row to its request's memory row, so the
    encoder output is stored once per request, never copied per beam.
    """

    src_tokens: str = "src_tokens"
    src_lengths: str = "src_lengths"
    memory: str = "memory"
    init_h: str = "init_h"
    init_c: str = "init_c"
    prev_tokens: str = "prev_tokens"
    h: str = "h"
    c: str = "c"
    memory_mask: str = "memory_mask"
    memory_index: str = "memory_index"
    k: str = "k"
    topk_logprobs: str = "topk_logprobs"
    topk_ids: str = "topk_ids"
    h_out: str = "h_out"
    c_out: str = "c_out"
    attention: str = "attention"


class Seq2SeqGraphs(StrictModel):
    encoder: str = "encoder.onnx"
    """File name of the encoder graph inside the version directory."""
    decoder: str = "decoder.onnx"
    """File name of the one-step decoder graph inside the version directory."""
    tensors: Seq2SeqTensors = Seq2SeqTensors()


class TokenizerConfig(StrictModel):
    type: Literal["sentencepiece"] = "sentencepiece"
    source: str = "source.model"
    """SentencePiece model for the input side (file in the version directory)."""
    target: str = "target.model"
    """SentencePiece model for the output side."""
    bos_id: int = Field(1, ge=0)
    """Target id fed as the first `prev_tokens` of every hypothesis."""
    eos_id: int = Field(2, ge=0)
    """Target id that ends a hypothesis; source sentences end with it too."""
    pad_id: int = Field(0, ge=0)
    """Id used to pad source batches (masked out by `memory_mask`)."""


class DecodingDefaults(StrictModel):
    """Per-request decoding options used when a request leaves a field unset."""

    beam_size: int = Field(4, ge=1)
    n_best: int = Field(1, ge=1)
    length_penalty: float = Field(1.0, ge=0.0, le=10.0)
    """Final score = sum log p / length**length_penalty (0 disables)."""
    max_length: int = Field(128, ge=1)
    """Maximum number of output tokens (EOS excluded)."""
    min_length: int = Field(0, ge=0)
    """EOS is not allowed before this many output tokens."""
    sampling_topk: int = Field(1, ge=0)
    """1 = beam search (no sampling); 0 = sample from the whole vocabulary."""
    sampling_topp: float = Field(1.0, gt=0.0, le=1.0)
    sampling_temperature: float = Field(1.0, gt=0.0, le=100.0)
    repetition_penalty: float = Field(1.0, gt=0.0, le=10.0)
    no_repeat_ngram_size: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _n_best_within_beam(self) -> DecodingDefaults:
        if self.n_best > self.beam_size:
            raise ValueError(f"n_best ({self.n_best}) must be <= beam_size ({self.beam_size})")
        return self


class Limits(StrictModel):
    """Hard limits enforced at the edge (INVALID_ARGUMENT names the limit)."""

    max_sentences: int = Field(64, ge=1)
    """Most sentences in one request."""
    max_source_tokens: int = Field(200, ge=1)
    """Most subword tokens in one input sentence (EOS included)."""
    max_beam_size: int = Field(8, ge=1)
    max_output_length: int = Field(256, ge=1)
    """Largest max_length a request may ask for."""
    max_prefix_tokens: int = Field(64, ge=0)
    """Most target_prefix tokens per sentence."""
    max_ngram_size: int = Field(8, ge=0)
    """Largest no_repeat_ngram_size a request may ask for."""
    max_suppressed_sequences: int = Field(32, ge=0)
    """Most suppress_sequences in one request."""


class BatchingConfig(StrictModel):
    policy: Literal["continuous", "static", "sequential"] = "continuous"
    """continuous: requests join after their encoder pass and leave when done
    (iteration-level batching); static: a batch is formed and decoded to
    completion before the next is admitted, finished sentences keep their rows
    until the longest is done (a padded batch, as in a plain generate() call)
    and results return together; sequential: one request at a time.
    The last two exist to measure the first against."""
    max_live_sentences: int = Field(128, ge=1)
    """Most sentences decoding at once (each holds beam_size rows)."""
    max_rows: int = Field(1024, ge=1)
    """Most hypothesis rows in one decoder step."""
    max_queue: int = Field(1024, ge=1)
    """Sentences waiting for admission; beyond it, RESOURCE_EXHAUSTED at once."""
    max_encoder_batch: int = Field(64, ge=1)
    """Most sentences encoded in one encoder call when requests join."""


class RuntimeConfig(StrictModel):
    providers: list[str] = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    """Execution providers in order of preference; unavailable ones are skipped."""
    intra_op_threads: int = Field(0, ge=0)
    """0 lets ONNX Runtime choose (all cores)."""
    spin: bool | Literal["in-run"] = False
    """Whether ORT's worker threads spin-wait for work instead of sleeping.
    "in-run": between the ops of one Run only, stopping the moment it returns (ORT's
    session.force_spinning_stop), so a decoder step's many small ops start without
    a thread wake-up each, and no core is burnt between steps while the gRPC front
    end and the beam bookkeeping need it: the translators' default (Seq2Seq
    ModelConfig). true: spin between calls too (lowest single-request latency, but
    on 2 cores it took batched throughput from 110 to 76 sentences/s). false: never,
    the other kinds' default (measured neutral for tagger and sessions, and 0.86-0.92x
    for single captions, tests/benchmarks/bench_ab.py --model-repository-b)."""
    io_binding: bool | None = None
    """Bind inputs/outputs with IOBinding; None = only on a device provider."""


class ModelConfig(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: Literal["seq2seq"] = "seq2seq"
    description: str = ""
    source_language: str = ""
    target_language: str = ""
    graphs: Seq2SeqGraphs = Seq2SeqGraphs()
    tokenizer: TokenizerConfig = TokenizerConfig()
    decoding: DecodingDefaults = DecodingDefaults()
    limits: Limits = Limits()
    batching: BatchingConfig = BatchingConfig()
    runtime: RuntimeConfig = RuntimeConfig(spin="in-run")
    """Spinning within a decoder step's Run: on 2 cores it served en-fr int8 1.05-1.18x
    faster at 32 requests in flight, fp32 1.00x at 16 and 1.10x at 1 (median of 20
    alternating rounds), than never spinning."""

    @model_validator(mode="after")
    def _defaults_within_limits(self) -> ModelConfig:
        if self.decoding.beam_size > self.limits.max_beam_size:
            raise ValueError(
                f"decoding.beam_size ({self.decoding.beam_size}) exceeds "
                f"limits.max_beam_size ({self.limits.max_beam_size})"
            )
        if self.decoding.max_length > self.limits.max_output_length:
            raise ValueError(
                f"decoding.max_length ({self.decoding.max_length}) exceeds "
                f"limits.max_output_length ({self.limits.max_output_length})"
            )
        return self


class ConfigError(ValueError):
    """A model directory whose config.yaml is missing or invalid."""


def load_config(version_dir: Path) -> Any:
    """Read and validate `config.yaml` with the schema of its `kind` (default
    seq2seq); errors name the file and the bad keys."""
    from seqserve.server.kinds import DEFAULT_KIND, canonical
    from seqserve.server.repository.schemas import SCHEMAS

    path = Path(version_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: missing {CONFIG_FILE}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    kind = raw.get("kind", DEFAULT_KIND)
    name = canonical(kind) if isinstance(kind, str) else None
    if name is None:
        raise ConfigError(f"{path}: kind: unknown model kind {kind!r} (known: {sorted(SCHEMAS)})")
    schema = SCHEMAS[name]
    raw["kind"] = name  # an older alias reads as the kind's one name
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def dump_config(config: BaseModel, version_dir: Path) -> Path:
    """Write `config.yaml` (used by export/); round-trips through load_config."""
    path = Path(version_dir) / CONFIG_FILE
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return path
