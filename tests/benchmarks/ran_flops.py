"""FLOPs of one graph call, counted from the shapes ONNX Runtime actually ran.

Static shape inference (the first counter) lost the shapes of MatMuls whose
input came through a data-dependent Gather or Reshape: on the en-fr decoder
step it missed the attention query projection and the combine layer (84 of
619 MFLOP at 128 rows), so every share of peak it gave was 14% low. Here the
graph runs once with ORT profiling on: activation shapes come from the
profile's per-node events, weight shapes from the optimized graph's
initializers, so fused and int8 nodes are counted by the same arithmetic.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

MATMULS = ("MatMul", "FusedMatMul", "MatMulInteger", "DynamicQuantizeMatMul",
           "MatMulIntegerToFloat")
GEMMS = ("Gemm", "FusedGemm")
LSTMS = ("LSTM", "DynamicQuantizeLSTM")


def _node_flops(op: str, shapes: list[list[int] | None], attrs: dict) -> float:
    """2 per multiply-add; 0 for ops without a product or with a shape missing."""
    if op not in (*MATMULS, *GEMMS, *LSTMS) or len(shapes) < 2 or None in shapes[:2]:
        return 0.0
    a, b = shapes[0], shapes[1]
    assert a is not None and b is not None
    if op in MATMULS:
        batch = float(np.prod(a[:-2])) if len(a) > 2 else 1.0
        out = b[-2] if attrs.get("transB") else b[-1]
        return 2 * batch * a[-2] * a[-1] * out
    if op in GEMMS:
        out = b[0] if attrs.get("transB") else b[1]
        return 2.0 * a[0] * a[1] * out
    if op in LSTMS:
        hidden = int(attrs["hidden_size"])
        return 2.0 * a[0] * a[1] * 4 * hidden * (a[2] + hidden)
    return 0.0


def count_flops_as_run(path: Path, feeds: dict[str, np.ndarray]) -> float:
    """MatMul/Gemm/LSTM FLOPs (fp32 and int8 forms) of one run with these feeds."""
    with tempfile.TemporaryDirectory(prefix="ran-flops-") as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.enable_profiling = True
        options.log_severity_level = 3  # no warning about saving the optimized graph
        options.profile_file_prefix = str(Path(tmp) / "run")
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
        model = onnx.load(str(Path(tmp) / "optimized.onnx"))
    weights = {init.name: list(init.dims) for init in model.graph.initializer}
    nodes = {node.name: node for node in model.graph.node}
    total = 0.0
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        node = nodes.get(event["name"][: -len("_kernel_time")])
        if node is None:
            continue
        # The profile lists the shapes of the non-initializer inputs, in order.
        ran = iter([list(next(iter(shape.values())))
                    for shape in event["args"].get("input_type_shape", [])])
        shapes = [weights[name] if name in weights else (next(ran, None) if name else None)
                  for name in node.input]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        total += _node_flops(event["args"].get("op_name", node.op_type), shapes, attrs)
    return total
