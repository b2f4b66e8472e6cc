"""Decoder-step arithmetic rate: FLOPs counted from the ONNX graph, time measured in ORT."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
from onnx import shape_inference

from seqserve.server.engine.seq2seq_graphs import Seq2SeqGraphs
from seqserve.server.repository.config import load_config


def _dims(value_info: onnx.ValueInfoProto) -> list[int] | None:
    shape = value_info.type.tensor_type.shape
    dims = [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]
    return None if any(d is None for d in dims) else dims  # type: ignore[return-value]


def count_flops(path: Path, feeds: dict[str, np.ndarray]) -> float:
    """MatMul/Gemm/LSTM FLOPs of one run with these input shapes (2 per multiply-add)."""
    model = onnx.load(str(path))
    for graph_input in model.graph.input:
        if graph_input.name in feeds:
            shape = graph_input.type.tensor_type.shape
            for dim, size in zip(shape.dim, feeds[graph_input.name].shape, strict=True):
                dim.Clear()
                dim.dim_value = int(size)
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    shapes: dict[str, list[int]] = {}
    for info in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = _dims(info)
        if dims is not None:
            shapes[info.name] = dims
    for init in inferred.graph.initializer:
        shapes[init.name] = list(init.dims)
    total = 0.0
    for node in inferred.graph.node:
        ins = [shapes.get(name) for name in node.input]
        if node.op_type == "MatMul" and ins[0] and ins[1]:
            a, b = ins[0], ins[1]
            batch = float(np.prod(a[:-2])) if len(a) > 2 else 1.0
            total += 2 * batch * a[-2] * a[-1] * b[-1] if len(a) >= 2 else 2 * a[-1] * b[-1]
        elif node.op_type == "Gemm" and ins[0] and ins[1]:
            # B may be stored transposed (transB): its other dim is the output width.
            out_width = ins[1][0] if ins[1][1] == ins[0][1] else ins[1][1]
            total += 2 * ins[0][0] * ins[0][1] * out_width
        elif node.op_type == "LSTM" and ins[0] and ins[1] and ins[2]:
            steps, batch, width = ins[0]
            directions, gates, _ = ins[1]
            hidden = ins[2][2]
            total += 2 * steps * batch * directions * gates * (width + hidden)
    return total


def matmul_peak(size: int = 1024, repeats: int = 20) -> float:
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    b = a.T.copy()
    a @ b
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def decoder_step_report(version_dir: Path, *, rows: int = 128, beam: int = 4,
                        source_length: int = 30, repeats: int = 30) -> dict:
    config = load_config(version_dir)
    graphs = Seq2SeqGraphs(version_dir, config)
    rng = np.random.default_rng(0)
    requests = max(1, rows // beam)
    feeds = {
        "prev_tokens": rng.integers(4, 8, rows).astype(np.int64),
        "h": rng.standard_normal((graphs.layers, rows, graphs.hidden), dtype=np.float32),
        "c": rng.standard_normal((graphs.layers, rows, graphs.hidden), dtype=np.float32),
        "memory": rng.standard_normal((requests, source_length, graphs.memory_dim),
                                      dtype=np.float32),
        "memory_mask": np.ones((requests, source_length), bool),
        "memory_index": np.repeat(np.arange(requests), beam)[:rows].astype(np.int64),
    }
    k = 2 * beam
    args = [feeds[n] for n in ("prev_tokens", "h", "c", "memory", "memory_mask", "memory_index")]
    for _ in range(3):
        graphs.step(*args, k)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        graphs.step(*args, k)
        times.append(time.perf_counter() - started)
    step = float(np.median(times))
    names = config.graphs.tensors
    flops = count_flops(version_dir / config.graphs.decoder, {
        names.prev_tokens: feeds["prev_tokens"], names.h: feeds["h"], names.c: feeds["c"],
        names.memory: feeds["memory"], names.memory_mask: feeds["memory_mask"],
        names.memory_index: feeds["memory_index"], names.k: np.array([k], np.int64),
    })
    peak = matmul_peak()
    # The batching ceiling: how much cheaper a row is in a full batch than in
    # one request's beam. Continuous batching cannot beat this ratio on
    # throughput, whatever the scheduler does.
    one_request = {
        "prev_tokens": feeds["prev_tokens"][:beam], "h": feeds["h"][:, :beam],
        "c": feeds["c"][:, :beam], "memory": feeds["memory"][:1],
        "memory_mask": feeds["memory_mask"][:1], "memory_index": feeds["memory_index"][:beam],
    }
    small = _median_step(graphs, one_request, k, repeats)
    return {"rows": rows, "step_ms": 1000 * step, "gflop_per_step": flops / 1e9,
            "gflops": flops / step / 1e9, "peak_gflops": peak,
            "fraction_of_peak": flops / step / 1e9 / peak,
            "beam_rows": beam, "beam_step_ms": 1000 * small,
            "per_row_cost_ratio": (small / beam) / (step / rows)}


def _median_step(graphs: Seq2SeqGraphs, feeds: dict[str, np.ndarray], k: int,
                 repeats: int) -> float:
    args = [feeds[n] for n in ("prev_tokens", "h", "c", "memory", "memory_mask", "memory_index")]
    args[5] = np.zeros_like(args[5])
    for _ in range(3):
        graphs.step(*args, k)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        graphs.step(*args, k)
        times.append(time.perf_counter() - started)
    return float(np.median(times))
