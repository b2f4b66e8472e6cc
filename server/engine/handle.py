"""What api/ sees of a loaded model: plain Python in, plain Python out.

The api layer converts protobuf to these calls and back; it never touches
numpy batches, ONNX Runtime or the scheduler thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: int
    kind: str
    config: Any
    """The validated config.yaml of the model's kind (its KindSpec.config_schema)."""
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


# The typed handle of each kind lives in its kind module (server/kinds/); this
# is the old name of the seq2seq one.
from seqserve.server.kinds.seq2seq import Seq2SeqHandle as TranslatorHandle  # noqa: E402

__all__ = ["ModelInfo", "TranslatorHandle"]
