"""Decoder-step arithmetic rate: FLOPs counted from the shapes ORT ran, time measured in ORT."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from seqserve.server.engine.seq2seq_graphs import Seq2SeqGraphs
from seqserve.server.repository.config import load_config
from tests.benchmarks.ran_flops import count_flops_as_run


def count_flops(path: Path, feeds: dict[str, np.ndarray]) -> float:
    """MatMul/Gemm/LSTM FLOPs of one run with these input shapes (2 per multiply-add),
    from the shapes ORT ran (ran_flops.py; static shape inference missed some)."""
    return count_flops_as_run(path, feeds)


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
    # Enough requests for every row: the last one has fewer than `beam` rows when
    # rows is not a multiple of it (with rows // beam, memory_index fell short).
    requests = max(1, -(-rows // beam))
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
