"""The streaming kind (stateful sessions): its handle and its spec.

Chunk rules (one input, step bounds, vocabulary, finite values) are the
engine's StreamingModel.validate, which both APIs reach through submit_many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from seqserve.server.kinds.spec import KindSpec

if TYPE_CHECKING:
    from seqserve.server.engine.handle import ModelInfo
    from seqserve.server.engine.sessions.chunk_batch import ChunkBatch
    from seqserve.server.engine.sessions.model import ChunkInput, PredictResult
    from seqserve.server.engine.sessions.session_info import SessionInfo
    from seqserve.server.engine.sessions.table import ChunkResult


class StreamingHandle(Protocol):
    """A loaded streaming model: sessions that keep their RNN state between chunks."""

    info: ModelInfo

    def open(
        self, session_id: str | None = None, *, attach: bool = False,
        resume_from: int | None = None, owner: str | None = None,
        new_owner: str | None = None,
    ) -> SessionInfo: ...

    def close(
        self, session_id: str, *, reason: str = "closed", owner: str | None = None,
    ) -> int: ...

    def detach(self, session_id: str) -> None: ...

    def session(self, session_id: str, owner: str | None = None) -> SessionInfo: ...

    async def predict(
        self, session_id: str, chunk: ChunkInput, *, top_k: int = 0, owner: str | None = None,
        deadline: float | None = None,
    ) -> PredictResult: ...

    def submit_many(
        self, items: Sequence[tuple[str, ChunkInput]],
        owners: Sequence[str | None] | None = None, deadline: float | None = None,
    ) -> ChunkBatch: ...

    def result(self, session_id: str, chunk: ChunkResult, top_k: int) -> PredictResult: ...

    def check_top_k(self, top_k: int) -> int: ...


STREAMING: KindSpec[StreamingHandle] = KindSpec(
    name="streaming",
    handle=StreamingHandle,
    serves="Predict, PredictMany and the session RPCs",
    config_schema="seqserve.server.repository.streaming_config:StreamingConfig",
    engine="seqserve.server.engine.sessions.model:StreamingModel",
    kserve_adapter="seqserve.server.api.kserve.kind_streaming:StreamingAdapter",
    details=("streaming", "seqserve.server.api.model_details:streaming"),
    # A session's chunks run as they come: there is no static batch to wait for.
    server_policies={"continuous": "continuous", "sequential": "sequential"},
)
