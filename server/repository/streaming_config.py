"""config.yaml of kind `streaming`: one `step.onnx` with server-held LSTM state.

    step: (inputs [B,T,F] float or [B,T] int64, lengths int64[B], *state_in)
          -> (*outputs [B,T,...], *state_out)

The server only knows the state pairs by name and shape (like Triton's implicit
state); what they mean is the model's business.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from seqserve.server.repository.config import RuntimeConfig, StrictModel


class StatePair(StrictModel):
    input: str
    """Graph input that receives the session's state."""
    output: str
    """Graph output that holds the new state after the chunk."""
    shape: list[int]
    """Per-session shape (the batch axis excluded)."""
    batch_axis: int = Field(0, ge=0)
    """Where the batch axis sits in the graph tensor (LSTM h/c: 1, [L,B,H])."""
    init: float = 0.0
    """Initial value of every element."""


class StreamingInput(StrictModel):
    type: Literal["float", "tokens"]
    """float: inputs [B,T,features] float32; tokens: ids [B,T] int64 (vocabulary)."""
    features: int = Field(1, ge=1)
    """Values per step (float inputs)."""
    mean: list[float] = Field(default_factory=list)
    """Per-feature normalisation: the graph sees (x - mean) / std (float inputs)."""
    std: list[float] = Field(default_factory=list)
    vocabulary: str = ""
    """File with one JSON string per line, the token ids in order (tokens inputs)."""
    vocab_size: int = Field(0, ge=0)


class StreamingGraph(StrictModel):
    file: str = "step.onnx"
    inputs: str = "inputs"
    lengths: str = "lengths"
    outputs: list[str]
    """Per-step graph outputs [B,T,...], returned for every step of a chunk."""
    states: list[StatePair]


class StreamingOutputs(StrictModel):
    """How api/ presents the graph outputs."""

    forecast: str = ""
    """Output [B,T,horizon] in normalised units; denormalised with input mean/std."""
    top_probs: str = ""
    top_ids: str = ""
    """Top-k next tokens (ids into the vocabulary) and their probabilities."""
    surprise: str = ""
    """Surprise (bits) of the token just read."""
    top_k: int = Field(0, ge=0)
    """Candidates per step the graph returns (the most a request may ask for)."""


class SessionLimits(StrictModel):
    max_sessions: int = Field(4096, ge=1)
    """Live sessions (state pool slots); beyond it RESOURCE_EXHAUSTED."""
    max_chunk_steps: int = Field(256, ge=1)
    """Most steps in one chunk (INVALID_ARGUMENT beyond)."""
    idle_timeout_seconds: float = Field(300.0, gt=0)
    """A session with no chunk and no stream for this long is evicted."""
    max_pending_chunks: int = Field(64, ge=1)
    """Chunks queued per session before RESOURCE_EXHAUSTED."""


class SessionStoreConfig(StrictModel):
    store: Literal["memory", "sqlite", "redis"] = "memory"
    sqlite_path: str = "sessions.sqlite"
    """SQLite file; relative paths resolve against the version directory."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis shared by every replica (snapshots + one ownership lease per session)."""
    lease_seconds: float = Field(10.0, gt=0)
    """Redis: how long a replica's claim on a session outlives its last renewal (the
    takeover delay after a replica dies without releasing)."""
    ttl_seconds: float | None = Field(None, gt=0)
    """Redis: a snapshot expires this long after its session left every replica;
    default twice the idle timeout."""
    snapshot: Literal["every_chunk", "every_n_steps", "on_evict"] = "every_chunk"
    """When state is written: after every chunk, once N steps passed since the last
    snapshot, or only when a session leaves memory without being closed."""
    every_n_steps: int = Field(64, ge=1)
    retention_seconds: float = Field(86400.0, gt=0)
    """A snapshot not written for this long (its session was evicted or abandoned
    and never resumed) is purged from the SQLite store."""
    max_snapshots: int = Field(0, ge=0)
    """Most rows the SQLite store keeps (oldest purged first); 0 = 4 x max_sessions."""
    replay_steps: int = Field(128, ge=0)
    """Outputs of this many most recent steps kept per session (memory and snapshots), so
    a client resuming from the last output it received gets the ones it missed again
    (OpenSessionRequest.resume_from); 0 keeps none."""


class StreamingBatching(StrictModel):
    policy: Literal["continuous", "sequential"] = "continuous"
    """continuous: one run per tick over the pending chunks of many sessions;
    sequential: one session per run (the baseline the benchmark compares)."""
    max_rows: int = Field(1024, ge=1)
    """Most sessions (rows) in one step run."""
    max_queue: int = Field(16384, ge=1)
    """Chunks waiting over all sessions; beyond it RESOURCE_EXHAUSTED at once."""


class StreamingConfig(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: Literal["streaming"] = "streaming"
    description: str = ""
    input: StreamingInput
    graph: StreamingGraph
    present: StreamingOutputs = StreamingOutputs()
    limits: SessionLimits = SessionLimits()
    sessions: SessionStoreConfig = SessionStoreConfig()
    batching: StreamingBatching = StreamingBatching()
    runtime: RuntimeConfig = RuntimeConfig()

    @model_validator(mode="after")
    def _input_consistent(self) -> StreamingConfig:
        spec = self.input
        if spec.type == "float":
            for name in ("mean", "std"):
                values = getattr(spec, name)
                if values and len(values) != spec.features:
                    raise ValueError(f"input.{name} has {len(values)} values, features is "
                                     f"{spec.features}")
            if any(s <= 0 for s in spec.std):
                raise ValueError("input.std values must be > 0")
        elif spec.vocab_size < 1:
            raise ValueError("input.vocab_size must be >= 1 for token inputs")
        for pair in self.graph.states:
            if pair.batch_axis > len(pair.shape):
                raise ValueError(f"state {pair.input}: batch_axis beyond its shape")
        return self
