"""torch.onnx.export of the encoder and decoder-step graphs, with FACTS.md's traps handled.

Every exported graph, whichever exporter made it, has its declared output
shapes dropped and re-inferred (Trap 2) and its signature asserted, dynamic
dims included (Trap 1), before it is written. Numerical checks are parity.py's.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
import torch
from torch import nn
from torch.export import Dim

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.graph_checks import assert_signature, drop_output_shapes, name_output_dims
from seqserve.export.inputs import Batch, ModelDims, decoder_batch, encoder_batch, to_torch
from seqserve.export.signature import GraphSignature, decoder_signature, encoder_signature
from seqserve.export.step_form import decoder_step_graph, encoder_graph, served_memory
from seqserve.server.repository.config import Seq2SeqTensors

log = logging.getLogger(__name__)

Exporter = Literal["dynamo", "legacy"]
DEFAULT_OPSET = 18
# Candidate example sizes: primes, so that no example size equals another or a
# static model size by accident (a tracer cannot tell such coincidences apart).
_EXAMPLE_SIZES = (5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43)


@dataclass(frozen=True)
class ExampleShapes:
    """The sizes used for tracing; parity deliberately tests other ones."""

    batch: int
    src_len: int
    rows: int
    requests: int
    k: int


def example_shapes(dims: ModelDims) -> ExampleShapes:
    sizes = [s for s in _EXAMPLE_SIZES if s not in dims.values()]
    batch, src_len, rows, k = sizes[:4]
    requests = 3 if 3 not in dims.values() else 2
    # TopK needs k <= V; a tiny vocabulary gets the largest k it allows.
    return ExampleShapes(batch, src_len, rows, requests, min(k, dims.target_vocab - 1))


def _clear_lstm_dispatch_cache() -> None:
    """Trap 1 of FACTS.md: a cached LSTM decomposition from an earlier dynamo export
    can pin the time dimension of the next one to its example size."""
    cache = getattr(torch.ops.aten.lstm.input, "_dispatch_cache", None)
    if cache is not None:
        cache.clear()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters print progress and deprecation chatter; keep it out of CLI output
    unless debugging (it stays reachable with logging at DEBUG)."""
    out, err = io.StringIO(), io.StringIO()
    # torch.onnx's op registry logs one warning per torchvision op it cannot find
    # (no torchvision here, and no model of ours uses its ops). torch re-applies its
    # own log levels during export, so the logger is disabled, then restored.
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    was_disabled = registry.disabled
    registry.disabled = not log.isEnabledFor(logging.DEBUG)
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            registry.disabled = was_disabled
            if out.getvalue() or err.getvalue():
                log.debug("exporter output:\n%s%s", out.getvalue(), err.getvalue())


def _export_dynamo(
    graph: nn.Module, args: tuple[torch.Tensor, ...], sig: GraphSignature, opset: int
) -> onnx.ModelProto:
    _clear_lstm_dispatch_cache()
    named: dict[str, Dim] = {}
    dynamic_shapes = tuple(
        {axis: named.setdefault(label, Dim(label)) for axis, label in spec.dynamic_axes.items()}
        or None
        for spec in sig.inputs
    )
    with _quiet():
        program = torch.onnx.export(
            graph,
            args,
            dynamo=True,
            input_names=sig.input_names,
            output_names=sig.output_names,
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            verbose=False,
        )
    if program is None:
        raise RuntimeError("torch.onnx.export(dynamo=True) returned no program")
    return program.model_proto


def _export_legacy(
    graph: nn.Module, args: tuple[torch.Tensor, ...], sig: GraphSignature, opset: int
) -> onnx.ModelProto:
    buffer = io.BytesIO()
    dynamic_axes = {
        spec.name: dict(spec.dynamic_axes)
        for spec in (*sig.inputs, *sig.outputs)
        if spec.dynamic_axes
    }
    with _quiet():
        torch.onnx.export(
            graph,
            args,
            buffer,
            dynamo=False,
            input_names=sig.input_names,
            output_names=sig.output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset,
        )
    return onnx.load_from_string(buffer.getvalue())


def _export(
    graph: nn.Module,
    batch: Batch,
    sig: GraphSignature,
    path: Path,
    exporter: Exporter,
    opset: int,
    graph_name: str,
) -> onnx.ModelProto:
    args = to_torch(batch, sig.input_names)
    export = _export_dynamo if exporter == "dynamo" else _export_legacy
    with torch.no_grad():
        model = export(graph, args, sig, opset)
    model = drop_output_shapes(model)
    name_output_dims(model, sig.outputs)
    assert_signature(model, sig.inputs, sig.outputs, f"{graph_name} ({exporter})")
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return model


def export_encoder(
    module: Seq2SeqModule,
    path: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    exporter: Exporter,
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    shapes = example_shapes(dims)
    rng = np.random.default_rng(0)
    batch = encoder_batch(tensors, rng, shapes.batch, shapes.src_len, dims.source_vocab)
    graph = encoder_graph(module).eval()
    return _export(graph, batch, encoder_signature(tensors), path, exporter, opset, "encoder")


def export_decoder(
    module: Seq2SeqModule,
    path: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    exporter: Exporter,
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    shapes = example_shapes(dims)
    rng = np.random.default_rng(1)
    batch = decoder_batch(
        tensors, rng, dims, shapes.rows, shapes.requests, shapes.src_len, shapes.k
    )
    with torch.no_grad():  # the example memory as served (with keys in a keyed form)
        batch[tensors.memory] = served_memory(
            module, torch.from_numpy(batch[tensors.memory])).numpy()
    graph = decoder_step_graph(module, k_as_item=exporter == "dynamo").eval()
    return _export(graph, batch, decoder_signature(tensors), path, exporter, opset, "decoder")
