"""What api/ sees of a loaded model: plain Python in, plain Python out.

The api layer converts protobuf to these calls and back; it never touches
numpy batches, ONNX Runtime or the scheduler thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import PartialUpdate, SentenceResult


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: int
    kind: str
    config: Any
    """The validated config.yaml of the model's kind (see repository/schemas.py)."""
    providers: list[str] = field(default_factory=list)
    """Execution providers really active (sess.get_providers()), best first."""
    available_versions: list[int] = field(default_factory=list)
    state: str = "READY"
    # What only the loaded model knows (its vocab file, its graph), for
    # GetModel; the config says the rest. Kinds that lack one leave it empty.
    labels: list[str] = field(default_factory=list)
    """Tagger: every label in id order, from the version's vocab file."""
    vocab_size: int = 0
    """Captioner: words in the caption vocabulary (caption token ids are below it)."""
    forecast_horizon: int = 0
    """Streaming forecasters: values per step of the forecast output (its last axis)."""


class TranslatorHandle(Protocol):
    """A loaded seq2seq model. Deadlines are absolute `time.monotonic()` values.

    Cancelling the awaiting task (client disconnect) removes the request's
    rows from the batch. Errors are seqserve.server.errors classes.
    """

    info: ModelInfo

    async def translate(
        self,
        sentences: list[str],
        options: DecodingOptions,
        *,
        deadline: float | None = None,
    ) -> list[SentenceResult]: ...

    def translate_stream(
        self,
        sentences: list[str],
        options: DecodingOptions,
        *,
        deadline: float | None = None,
    ) -> AsyncIterator[PartialUpdate | list[SentenceResult]]:
        """Yields PartialUpdate while decoding advances, then the final list once."""
        ...
