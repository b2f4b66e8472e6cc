"""ONNX Runtime wrapper: provider fallback is reported, IOBinding gives the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from seqserve.server.errors import UnavailableError
from seqserve.server.repository.config import RuntimeConfig
from seqserve.server.runtime.graph import GraphSignatureError, OrtGraph
from seqserve.server.runtime.providers import CPU, device_of, requested_providers


def affine_graph(path: Path) -> Path:
    """y = x @ W + b with a dynamic batch dimension."""
    rng = np.random.default_rng(0)
    weight = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], rng.standard_normal(6).tolist())
    bias = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -1.0])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 2])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_cuda_request_falls_back_to_cpu_and_says_so(tmp_path: Path) -> None:
    graph = OrtGraph(affine_graph(tmp_path / "g.onnx"), RuntimeConfig())
    # No GPU here: whatever was requested, the active list is what ORT really uses.
    assert graph.providers[-1] == CPU
    assert graph.device == device_of(graph.providers)
    assert requested_providers(["NoSuchProvider"]) == [CPU]


@pytest.mark.parametrize("binding", [True, False])
def test_io_binding_and_plain_run_agree(tmp_path: Path, binding: bool) -> None:
    path = affine_graph(tmp_path / "g.onnx")
    plain = OrtGraph(path, RuntimeConfig(io_binding=False))
    bound = OrtGraph(path, RuntimeConfig(io_binding=binding))
    assert bound.use_binding is binding
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    [expected] = plain.run({"x": x}, ["y"])
    [got] = bound.run({"x": x}, ["y"])
    np.testing.assert_array_equal(got, expected)


def test_signature_mismatch_names_the_missing_tensors(tmp_path: Path) -> None:
    graph = OrtGraph(affine_graph(tmp_path / "g.onnx"), RuntimeConfig())
    with pytest.raises(GraphSignatureError, match="memory"):
        graph.check_signature(["x", "memory"], ["y"])


def test_unloadable_graph_is_unavailable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(UnavailableError, match=r"bad\.onnx"):
        OrtGraph(bad, RuntimeConfig())
