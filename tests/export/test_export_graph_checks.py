"""Signature checks on hand-built ONNX graphs: a fixed dynamic dim must fail loudly."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from seqserve.export.graph_checks import (
    GraphSignatureError,
    TensorSpec,
    assert_signature,
    drop_output_shapes,
    name_output_dims,
)

INPUTS = [TensorSpec("x", TensorProto.FLOAT, 2, {0: "B", 1: "S"})]
OUTPUTS = [TensorSpec("y", TensorProto.FLOAT, 2, {0: "B", 1: "S"})]


def _identity(input_shape: list, output_shape: list | None) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_symbolic_graph_passes() -> None:
    assert_signature(_identity(["B", "S"], ["B", "S"]), INPUTS, OUTPUTS, "g")


def test_fixed_input_dim_is_rejected_with_the_axis_named() -> None:
    with pytest.raises(GraphSignatureError, match="input x: axis 1 is fixed to 7"):
        assert_signature(_identity(["B", 7], ["B", 7]), INPUTS, OUTPUTS, "g")


def test_example_size_in_declared_output_shape_is_dropped_and_reinferred() -> None:
    # Trap 2: the exporter wrote the example's S=7 into the output shape.
    model = _identity(["B", "S"], ["B", 7])
    with pytest.raises(GraphSignatureError, match="output y: axis 1 is fixed"):
        assert_signature(model, INPUTS, OUTPUTS, "g")
    fixed = drop_output_shapes(model)
    name_output_dims(fixed, OUTPUTS)
    assert_signature(fixed, INPUTS, OUTPUTS, "g")
    dims = fixed.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["B", "S"]


def test_wrong_names_and_types_are_reported() -> None:
    wrong = [TensorSpec("tokens", TensorProto.INT64, 2, {0: "B"})]
    with pytest.raises(GraphSignatureError, match="contract needs"):
        assert_signature(_identity(["B", "S"], ["B", "S"]), wrong, OUTPUTS, "g")
    int_input = [TensorSpec("x", TensorProto.INT64, 2, {0: "B"})]
    with pytest.raises(GraphSignatureError, match="type FLOAT, expected INT64"):
        assert_signature(_identity(["B", "S"], ["B", "S"]), int_input, OUTPUTS, "g")
