"""Produce both served graphs with the first exporter whose output is correct.

"Correct" means the graph passed its signature check (names, types, symbolic
dynamic dims) and ORT matched PyTorch within tolerance at unseen shapes. The
dynamo exporter is tried first (the legacy TorchScript exporter is deprecated);
the legacy one is only a fallback, per graph, and the manifest records which
exporter made each graph and why any fallback happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.inputs import ModelDims
from seqserve.export.onnx_export import (
    DEFAULT_OPSET,
    Exporter,
    export_decoder,
    export_encoder,
)
from seqserve.export.parity import ParityReport, decoder_parity, encoder_parity
from seqserve.server.repository.config import Seq2SeqTensors

log = logging.getLogger(__name__)

EXPORTERS: tuple[Exporter, ...] = ("dynamo", "legacy")


class ExportError(RuntimeError):
    """No exporter produced a graph that passes the checks; the message has each reason."""


@dataclass
class GraphBuild:
    name: str
    file: str
    exporter: Exporter
    opset: int
    parity: ParityReport
    failed_attempts: dict[str, str] = field(default_factory=dict)
    """Exporter -> why its graph was rejected (empty when the first one worked)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "exporter": self.exporter,
            "opset": self.opset,
            "parity": self.parity.to_json(),
            "failed_attempts": self.failed_attempts,
        }


ExportFn = Callable[..., onnx.ModelProto]
ParityFn = Callable[..., ParityReport]


def _build_one(
    name: str,
    export: ExportFn,
    parity: ParityFn,
    module: Seq2SeqModule,
    path: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    exporters: tuple[Exporter, ...],
    opset: int,
) -> GraphBuild:
    failures: dict[str, str] = {}
    for exporter in exporters:
        try:
            export(module, path, tensors, dims, exporter, opset)
            report = parity(module, path, tensors, dims)
        except Exception as exc:  # any exporter failure is a reason to try the next one
            failures[exporter] = f"{type(exc).__name__}: {exc}"
            log.warning("%s: %s exporter failed: %s", name, exporter, failures[exporter])
            continue
        if report.ok:
            return GraphBuild(name, path.name, exporter, opset, report, failures)
        failures[exporter] = f"parity failed: {report.summary()}"
        log.warning("%s: %s exporter rejected: %s", name, exporter, failures[exporter])
    path.unlink(missing_ok=True)
    reasons = "; ".join(f"{e}: {why}" for e, why in failures.items())
    raise ExportError(f"{name}: no exporter produced a correct graph ({reasons})")


def build_graphs(
    module: Seq2SeqModule,
    out_dir: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    *,
    encoder_file: str = "encoder.onnx",
    decoder_file: str = "decoder.onnx",
    exporters: tuple[Exporter, ...] = EXPORTERS,
    opset: int = DEFAULT_OPSET,
) -> dict[str, GraphBuild]:
    """Export, check and parity-test both graphs into out_dir; raise ExportError on failure."""
    encoder = _build_one(
        "encoder", export_encoder, encoder_parity,
        module, out_dir / encoder_file, tensors, dims, exporters, opset,
    )
    decoder = _build_one(
        "decoder", export_decoder, decoder_parity,
        module, out_dir / decoder_file, tensors, dims, exporters, opset,
    )
    return {"encoder": encoder, "decoder": decoder}
