"""seqserve's Python client: typed calls of the domain API, streaming sessions,
and the command-line clients. Importable without the server (no engine, no
ONNX Runtime): it needs grpcio, protobuf and numpy.

    from seqserve.client import SeqServeClient, DecodingOptions
    with SeqServeClient("127.0.0.1:50051") as client:
        client.translate(["forty two"], model="en-fr", options=DecodingOptions(beam_size=4))

Names are loaded on first use, so `import seqserve.client.types` stays cheap
(the server's engine imports the value types from there).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "connect": "seqserve.client.channel",
    "connect_aio": "seqserve.client.channel",
    "DecodingOptions": "seqserve.client.types",
    "Hypothesis": "seqserve.client.types",
    "PartialUpdate": "seqserve.client.types",
    "SentenceResult": "seqserve.client.types",
    "TranslationClient": "seqserve.client.translation_client",
    "TranslateReply": "seqserve.client.translation_client",
    "SeqServeClient": "seqserve.client.kinds_client",
    "TagReply": "seqserve.client.kinds_client",
    "CaptionReply": "seqserve.client.kinds_client",
    "PredictReply": "seqserve.client.kinds_client",
    "SessionMux": "seqserve.client.session_mux",
    "StepRefused": "seqserve.client.session_mux",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seqserve.client' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
