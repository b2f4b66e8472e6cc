"""Where the decoder step's time goes: ONNX Runtime's per-node profile at N rows.

Runs the exported decoder graph of each version directory given (same feeds,
same session options as the server: ORT_ENABLE_ALL, intra-op threads from
config.yaml) with ORT profiling on, and prints per-node and per-op-type shares
of the step time, largest first. Several version dirs are profiled in one run,
so before/after graph forms compare under the same machine load:

    flock /tmp/seqserve-bench.lock .venv/bin/python tests/benchmarks/profile_decoder_step.py \\
        /work/decoder-repo/en-fr/1 /work/decoder-repo/en-fr/2 --rows 128
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.server.engine.seq2seq_graphs import Seq2SeqGraphs
from seqserve.server.repository.config import load_config


def step_feeds(graphs: Seq2SeqGraphs, rows: int, beam: int, source_length: int,
               k: int) -> dict[str, np.ndarray]:
    """Random state, one request per `beam` rows (the decoder_flops.py feeds)."""
    n = graphs.names
    rng = np.random.default_rng(0)
    requests = max(1, -(-rows // beam))  # the last request may have fewer rows
    # Real memory: the encoder's output for random source ids (a graph whose memory
    # carries precomputed keys needs them to match the memory half).
    sources = [list(rng.integers(4, 60, source_length)) for _ in range(requests)]
    memory = np.stack(graphs.encode(sources).memories)
    return {
        n.prev_tokens: rng.integers(4, 8, rows).astype(np.int64),
        n.h: rng.standard_normal((graphs.layers, rows, graphs.hidden), dtype=np.float32),
        n.c: rng.standard_normal((graphs.layers, rows, graphs.hidden), dtype=np.float32),
        n.memory: memory.astype(np.float32),
        n.memory_mask: np.ones((requests, source_length), bool),
        n.memory_index: np.repeat(np.arange(requests), beam)[:rows].astype(np.int64),
        n.k: np.array([k], np.int64),
    }


def profile(version_dir: Path, rows: int, beam: int, source_length: int,
            repeats: int) -> dict:
    config = load_config(version_dir)
    graphs = Seq2SeqGraphs(version_dir, config)
    feeds = step_feeds(graphs, rows, beam, source_length, 2 * beam)
    n = graphs.names
    fetch = [n.topk_logprobs, n.topk_ids, n.h_out, n.c_out]
    with tempfile.TemporaryDirectory(prefix="ort-profile-") as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = config.runtime.intra_op_threads
        options.inter_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "step")
        session = ort.InferenceSession(str(version_dir / config.graphs.decoder), options,
                                       providers=["CPUExecutionProvider"])
        for _ in range(5):
            session.run(fetch, feeds)
        session.end_profiling()  # drop warm-up calls from the profile
        session = ort.InferenceSession(str(version_dir / config.graphs.decoder), options,
                                       providers=["CPUExecutionProvider"])
        for _ in range(3):
            session.run(fetch, feeds)
        for _ in range(repeats):
            session.run(fetch, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
    nodes: dict[str, float] = defaultdict(float)
    ops: dict[str, float] = defaultdict(float)
    runs: list[float] = []
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event.get("args", {}).get("op_name", "?")
            nodes[f"{event['name'][: -len('_kernel_time')]} ({op})"] += event["dur"]
            ops[op] += event["dur"]
        elif event.get("cat") == "Session" and event["name"] == "model_run":
            runs.append(event["dur"])
    runs = runs[-repeats:]
    total = sum(nodes.values())
    # Warm-up runs are in the node sums too: scale to one call by the share only.
    return {
        "version_dir": str(version_dir), "rows": rows,
        "median_run_ms": float(np.median(runs)) / 1000 if runs else None,
        "op_share": {k: v / total for k, v in sorted(ops.items(), key=lambda kv: -kv[1])},
        "node_share": {k: v / total for k, v in sorted(nodes.items(), key=lambda kv: -kv[1])},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version_dirs", type=Path, nargs="+")
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--source-length", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", type=Path, default=Path("bench_results/decoder_profile.json"))
    args = parser.parse_args()
    reports = []
    for version_dir in args.version_dirs:
        report = profile(version_dir, args.rows, args.beam, args.source_length, args.repeats)
        reports.append(report)
        print(f"{version_dir}: {args.rows} rows, median model_run {report['median_run_ms']:.2f} ms")
        print("  by op type:")
        for op, share in list(report["op_share"].items())[: args.top]:
            print(f"    {100 * share:5.1f}%  {op}")
        print("  by node:")
        for node, share in list(report["node_share"].items())[: args.top]:
            print(f"    {100 * share:5.1f}%  {node}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(reports, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
