"""config.yaml schema of `kind: tagger` (a stateless BiLSTM sequence labeller).

Graph contract: (tokens int64[B,T], chars int64[B,T,C], lengths int64[B])
-> logits float[B,T,K]. Rows are padded with id 0 after their length; the
graph reverses each row within its length for the backward direction, so
padding never reaches a real position (FACTS.md: naive masking is wrong).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from seqserve.server.repository.config import RuntimeConfig, StrictModel


class TaggerTensors(StrictModel):
    tokens: str = "tokens"
    chars: str = "chars"
    lengths: str = "lengths"
    logits: str = "logits"


class TaggerGraphs(StrictModel):
    tagger: str = "tagger.onnx"
    """File name of the tagging graph inside the version directory."""
    tensors: TaggerTensors = TaggerTensors()


class TaggerVocabConfig(StrictModel):
    file: str = "vocab.json"
    """JSON {"words": [...], "chars": [...], "labels": [...]}; a list index is its id."""
    lowercase: bool = True
    """Words are looked up lowercased (characters keep their case)."""
    max_chars: int = Field(16, ge=2)
    """Characters per token fed to the graph; longer tokens keep both ends."""


class TaggerLimits(StrictModel):
    max_sentences: int = Field(64, ge=1)
    """Most sentences in one request."""
    max_tokens: int = Field(128, ge=1)
    """Most tokens in one sentence."""
    max_top_k: int = Field(5, ge=0)
    """Largest top_k a request may ask for."""


DEFAULT_CALL_OVERHEAD_TOKENS = 24.0
"""Measured on the demo tagger: 0.53 ms per graph call + 0.023 ms per padded token."""


class DynamicBatching(StrictModel):
    policy: Literal["dynamic", "sequential"] = "dynamic"
    """dynamic: sentences of many requests share a graph call (grouped by
    length); sequential: one request per call, in arrival order (the baseline)."""
    max_batch_size: int = Field(64, ge=1)
    """Most sentences in one graph call."""
    call_overhead_tokens: float = Field(DEFAULT_CALL_OVERHEAD_TOKENS, ge=0.0)
    """The fixed cost of one graph call, in padded tokens: a batch is grown only while
    its real tokens per (this + rows x longest row) rise. The default was measured
    on the demo tagger (0.53 ms per call + 0.023 ms per padded token, 1 thread);
    0 packs by padding alone."""
    max_queue_delay_ms: float = Field(2.0, ge=0.0, le=1000.0)
    """How long the oldest waiting sentence may wait for batch-mates."""
    max_queue: int = Field(2048, ge=1)
    """Sentences waiting; beyond it RESOURCE_EXHAUSTED at once."""
    adaptive_delay: bool = True
    """Skip the queue delay while there is no sign of concurrent load (the last
    batch served one request), so a lone client never pays it; False waits
    max_queue_delay_ms for every batch that is not full (Triton's rule)."""


class TaggerConfig(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: Literal["tagger"] = "tagger"
    description: str = ""
    language: str = ""
    graphs: TaggerGraphs = TaggerGraphs()
    vocab: TaggerVocabConfig = TaggerVocabConfig()
    limits: TaggerLimits = TaggerLimits()
    batching: DynamicBatching = DynamicBatching()
    runtime: RuntimeConfig = RuntimeConfig()
