"""How each model kind looks over KServe v2: its tensors, and one infer call.

One adapter module per kind (kind_seq2seq.py, kind_tagger.py, ...), named by
the kind's KindSpec.kserve_adapter (server/kinds/): the servicer only ever
talks to this interface, so adding a kind never touches the servicer. Adapters call the same engine
handle methods the domain API calls; nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from seqserve.server.api.kserve.params import Parameters
from seqserve.server.api.kserve.tensors import Tensor
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.kinds import KINDS, resolve


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    dims: tuple[int, ...]
    """Without the batch dimension when the kind batches (max_batch_size > 0); -1 = any."""
    optional: bool = False
    max_variable: int = 0
    """The most each -1 dimension may be (0: no bound here): checked on the declared
    shape before the payload is decoded, so an oversize tensor costs nothing."""
    limit: str = ""
    """The config limit max_variable comes from (e.g. "max_tokens"): the refusal names
    it, as the engine's check of the same rule does."""


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int
    """> 0: the first dimension of every tensor is the batch (at most this); 0: none."""
    batch_limit: str = ""
    """The config limit max_batch_size comes from (e.g. "max_sentences"), for the message."""
    sequence: bool = False
    """A stateful model: requests carry sequence_id/start/end (Triton sequence batching)."""
    max_queue_delay_us: int = 0
    idle_timeout_us: int = 0

    def input(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)


@dataclass
class InferCall:
    """One validated request as an adapter sees it."""

    inputs: dict[str, Tensor]
    params: Parameters
    deadline: float | None
    sequence_key: str | None = None
    sequence_start: bool = False
    sequence_end: bool = False


@dataclass
class InferOutcome:
    outputs: list[Tensor]
    rows: int
    """Batch elements served, for the statistics' inference_count."""
    parameters: dict[str, Any] = field(default_factory=dict)


class KindAdapter(Protocol):
    platform: str
    """ModelConfig/ModelMetadata platform: its KindSpec.platform, e.g. "seqserve_seq2seq"."""

    def signature(self, info: ModelInfo) -> Signature: ...

    async def infer(self, handle: Any, call: InferCall) -> InferOutcome: ...

    def forget(self, model: str) -> None:
        """The model was unloaded: drop any per-model state (open sequences)."""
        ...


def _adapters() -> dict[str, Callable[[], KindAdapter]]:
    # Resolved on call: adapter modules import this one for the shared types.
    return {name: resolve(spec.kserve_adapter) for name, spec in KINDS.items()}


def make_adapters() -> dict[str, KindAdapter]:
    """One adapter per kind, per servicer (adapters may hold per-server state)."""
    return {kind: factory() for kind, factory in _adapters().items()}
