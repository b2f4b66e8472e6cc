"""Decoder-step time and GFLOP/s of several exported versions, in one run.

For comparing graph forms of the same model (the generic ONNX-LSTM step vs the
fused MatMul step, fp32 vs int8) under the same machine load: each version's
step at N rows is timed (median of repeats, feeds of decoder_flops.py), the
rounds alternate between versions so a load change hits all of them, and the
fp32 matmul peak is measured between rounds. FLOPs are counted from the first
version's graph (the same arithmetic for every form; int8 ops are not counted).

    flock /tmp/seqserve-bench.lock .venv/bin/python tests/benchmarks/bench_decoder_forms.py \\
        /work/decoder-repo/en-fr/1 /work/decoder-repo/en-fr/3 --rows 128
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.decoder_flops import decoder_step_report, matmul_peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version_dirs", type=Path, nargs="+")
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench_results/decoder_forms.json"))
    args = parser.parse_args()
    steps: dict[str, list[float]] = {str(d): [] for d in args.version_dirs}
    peaks: list[float] = []
    flops = None
    for _ in range(args.rounds):
        for version_dir in args.version_dirs:
            report = decoder_step_report(version_dir, rows=args.rows)
            if flops is None:
                flops = report["gflop_per_step"]
            steps[str(version_dir)].append(report["step_ms"])
            peaks.append(report["peak_gflops"])
        peaks.append(matmul_peak())
    peak = float(np.median(peaks))
    assert flops is not None
    print(f"fp32 matmul peak (median of {len(peaks)} in this run): {peak:.0f} GFLOP/s; "
          f"{flops:.3f} GFLOP per step at {args.rows} rows")
    results = {}
    base = float(np.median(steps[str(args.version_dirs[0])]))
    for version_dir in args.version_dirs:
        step = float(np.median(steps[str(version_dir)]))
        gflops = flops / (step / 1000)
        results[str(version_dir)] = {"step_ms": step, "all_ms": steps[str(version_dir)],
                                     "gflops": gflops, "fraction_of_peak": gflops / peak,
                                     "speedup_vs_first": base / step}
        print(f"{version_dir}: step {step:.2f} ms ({steps[str(version_dir)]}), "
              f"{gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of peak, "
              f"{base / step:.2f}x the first")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": args.rows, "gflop_per_step": flops,
                                    "peak_gflops": peak, "results": results}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
