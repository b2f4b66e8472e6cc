"""Checks and fix-ups on exported ONNX graphs, independent of the exporter used.

Both exporters can produce a graph that loads fine and is still wrong for
serving (FACTS.md): the dynamo exporter writes the example's sizes into declared
output shapes (ORT then warns on every call whose shape differs), and after an
earlier LSTM export it can silently pin a dynamic input dimension to the
example's size (ORT then rejects every other size). Nothing warns about the
second, so every graph goes through `assert_signature` before it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import onnx
from onnx import TensorProto, shape_inference


class GraphSignatureError(RuntimeError):
    """An exported graph's names, types or dynamic dimensions break the contract."""


@dataclass(frozen=True)
class TensorSpec:
    """What the contract requires of one graph input or output."""

    name: str
    elem_type: int
    """onnx.TensorProto data type, e.g. TensorProto.INT64."""
    rank: int
    dynamic_axes: Mapping[int, str] = field(default_factory=dict)
    """Axis -> symbolic name; these must stay symbolic (never a fixed size)."""


def drop_output_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Clear the declared output shapes, then let ONNX shape inference fill them again.

    Inference only writes what it can prove for every input size, so a dimension
    the exporter copied from the example comes back symbolic (or unknown), while
    static ones such as the hidden size come back as numbers.
    """
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    # value_info holds the exporter's intermediate shapes, which may carry the
    # same example sizes; inference recomputes them from the inputs.
    del model.graph.value_info[:]
    return shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)


def name_output_dims(model: onnx.ModelProto, outputs: Sequence[TensorSpec]) -> None:
    """Give dynamic output axes the contract's names where inference left them anonymous.

    Inference names what it cannot prove `unk__<n>`; the contract knows that
    topk_ids is [N, k], so say so (the server's signature check reads these).
    Fixed sizes are left alone for assert_signature to reject.
    """
    specs = {s.name: s for s in outputs}
    for value in model.graph.output:
        spec = specs.get(value.name)
        shape = value.type.tensor_type.shape
        if spec is None or len(shape.dim) != spec.rank:
            continue
        for axis, label in spec.dynamic_axes.items():
            dim = shape.dim[axis]
            if dim.HasField("dim_value"):
                continue
            if not dim.HasField("dim_param") or dim.dim_param.startswith("unk__"):
                dim.dim_param = label


def _dims(value: onnx.ValueInfoProto) -> list[str | int | None]:
    """Each dim as its symbolic name, its fixed size, or None when unknown."""
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return []
    out: list[str | int | None] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_param"):
            out.append(dim.dim_param)
        elif dim.HasField("dim_value"):
            out.append(dim.dim_value)
        else:
            out.append(None)
    return out


def describe(model: onnx.ModelProto) -> dict[str, dict[str, list[str | int | None]]]:
    """{"inputs": {name: dims}, "outputs": {name: dims}} for manifests and messages."""
    return {
        "inputs": {v.name: _dims(v) for v in model.graph.input},
        "outputs": {v.name: _dims(v) for v in model.graph.output},
    }


def _check_values(
    kind: str,
    values: Sequence[onnx.ValueInfoProto],
    specs: Sequence[TensorSpec],
    require_shape: bool,
) -> list[str]:
    problems: list[str] = []
    names = [v.name for v in values]
    wanted = [s.name for s in specs]
    if names != wanted:
        return [f"{kind} are {names}, the contract needs {wanted} (in that order)"]
    for value, spec in zip(values, specs, strict=True):
        elem = value.type.tensor_type.elem_type
        if elem != spec.elem_type:
            problems.append(
                f"{kind[:-1]} {spec.name}: type {TensorProto.DataType.Name(elem)}, "
                f"expected {TensorProto.DataType.Name(spec.elem_type)}"
            )
        dims = _dims(value)
        if not dims:
            if require_shape:
                problems.append(f"{kind[:-1]} {spec.name}: no declared shape")
            continue
        if len(dims) != spec.rank:
            problems.append(f"{kind[:-1]} {spec.name}: rank {len(dims)}, expected {spec.rank}")
            continue
        for axis in spec.dynamic_axes:
            if isinstance(dims[axis], int):
                problems.append(
                    f"{kind[:-1]} {spec.name}: axis {axis} is fixed to {dims[axis]} "
                    f"but must be dynamic (shape {dims})"
                )
            elif require_shape and dims[axis] is None:
                problems.append(f"{kind[:-1]} {spec.name}: axis {axis} has no symbolic name")
    return problems


def assert_signature(
    model: onnx.ModelProto,
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    graph_name: str,
) -> None:
    """Fail loudly unless names, types, ranks and dynamic dims match the contract.

    Inputs must name every dynamic axis (a fixed input size is Trap 1 of
    FACTS.md); outputs may leave one unknown, since inference cannot always
    name it, but must never carry a fixed size there.
    """
    problems = _check_values("inputs", model.graph.input, inputs, require_shape=True)
    problems += _check_values("outputs", model.graph.output, outputs, require_shape=False)
    if problems:
        raise GraphSignatureError(f"{graph_name}: " + "; ".join(problems))
