"""fp32 vs int8 translation: sentences/s at concurrency 1 and 32, BLEU, decoder GFLOP/s.

One run, the same held-out sentences for both: the fp32 version is the one
given; the int8 version is made from it with export/quantize.py (BLEU on the
same pairs recorded in its manifest). Each is served by the real server in
turn; decoder-step GFLOP/s are counted from the fp32 graph (the same
arithmetic; int8 ops are not counted by the FLOP counter) and set against the
fp32 matmul peak measured in this run. With --rounds N both servers run at once
(an idle one costs nothing) and every round drives fp32 and int8 in turn, in
alternating order, so a change of machine load hits both; the figures are the
medians over rounds, and per-round ratios are printed as well. With
--before-python, another build serves the same two versions in the same rounds,
so a change's effect on int8's gain is measured under the same load. Run it
alone on the machine:

    flock /tmp/seqserve-bench.lock .venv/bin/python tests/benchmarks/bench_int8.py \\
        --version-dir /work/test-cache/numbers-repo/numbers/1 \\
        --pairs /work/test-cache/numbers-run/test.tsv
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.export.quality import score
from seqserve.export.quantize import quantize_version, seq2seq_measure
from seqserve.server.repository.config import load_config
from seqserve.server.repository.tokenizer import SubwordTokenizer
from tests.benchmarks.bench_translate import drive
from tests.benchmarks.decoder_flops import decoder_step_report
from tests.support.server_process import running_server


def read_pairs(path: Path, count: int) -> list[tuple[str, str]]:
    pairs = [tuple(line.split("\t")[:2]) for line in path.read_text().splitlines() if "\t" in line]
    return [(s, t) for s, t in pairs][:count]  # type: ignore[misc]


def measure_once(address: str, name: str, target: SubwordTokenizer, sources: list[str],
                 references: list[str], concurrency: int, args: argparse.Namespace) -> dict:
    run = asyncio.run(drive(address, name, sources, concurrency, args.beam, args.max_length))
    texts = [target.decode([t for t in ids if t != 2]) for ids in run.pop("outputs")]
    run["bleu"] = score(texts, references)["bleu"]
    return run


def serve_and_measure(repositories: dict[str, Path], name: str, sources: list[str],
                      references: list[str], args: argparse.Namespace,
                      pythons: dict[str, str] | None = None) -> dict[str, dict]:
    """label -> concurrency -> the median run over rounds (all rounds kept).
    pythons: label -> the interpreter that serves it (default: this one)."""
    runs: dict[str, dict[str, list[dict]]] = {
        label: {str(c): [] for c in args.concurrency} for label in repositories}
    with contextlib.ExitStack() as stack:
        servers = {label: stack.enter_context(running_server(
                       repo, python=(pythons or {}).get(label)))
                   for label, repo in repositories.items()}
        targets = {label: SubwordTokenizer(repo / name / "1" / load_config(
            repo / name / "1").tokenizer.target) for label, repo in repositories.items()}
        labels = list(repositories)
        for round_index in range(args.rounds):
            for concurrency in args.concurrency:
                order = labels if round_index % 2 == 0 else labels[::-1]
                for label in order:
                    run = measure_once(servers[label].address, name, targets[label], sources,
                                       references, concurrency, args)
                    runs[label][str(concurrency)].append(run)
                    print(f"  round {round_index} {label} c={concurrency:<3} "
                          f"{run['sentences_per_s']:8.1f} sent/s  p50 {run['p50_ms']:7.1f} ms"
                          f"  p99 {run['p99_ms']:7.1f} ms  BLEU {run['bleu']:.2f}", flush=True)
    out: dict[str, dict] = {}
    for label, by_c in runs.items():
        out[label] = {}
        for c, rounds in by_c.items():
            rates = [r["sentences_per_s"] for r in rounds]
            median = sorted(rounds, key=lambda r: r["sentences_per_s"])[len(rounds) // 2]
            out[label][c] = {**median, "all_sentences_per_s": rates,
                             "all_bleu": [r["bleu"] for r in rounds]}
    return out


def _round_ratios(results: dict, base: str, other: str, c: str) -> list[float]:
    return sorted(b / a for a, b in zip(results[base][c]["all_sentences_per_s"],
                                        results[other][c]["all_sentences_per_s"], strict=True))


def _spread(ratios: list[float]) -> str:
    return f"median {ratios[len(ratios) // 2]:.2f}x, {ratios[0]:.2f}-{ratios[-1]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version-dir", type=Path,
                        default=Path("/work/test-cache/numbers-repo/numbers/1"))
    parser.add_argument("--pairs", type=Path,
                        default=Path("/work/test-cache/numbers-run/test.tsv"))
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quantize", choices=["int8", "int8-invariant"], default="int8",
                        help="int8-invariant: export/invariant_int8.py, calibrated on the "
                             "64 pairs after the first 100")
    parser.add_argument("--before-python", default="",
                        help="also serve both versions with this interpreter (another "
                             "checkout's venv): int8's gain before and after a change, in "
                             "the same rounds")
    parser.add_argument("--out", type=Path, default=Path("bench_results/int8.json"))
    args = parser.parse_args()

    config = load_config(args.version_dir)
    name = config.name
    pairs = read_pairs(args.pairs, args.count)
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
        fp32_repo, int8_repo = Path(tmp) / "fp32", Path(tmp) / "int8"
        fp32_dir = fp32_repo / name / "1"
        shutil.copytree(args.version_dir, fp32_dir)
        extra: dict = {}
        if args.quantize == "int8-invariant":
            from seqserve.export.invariant_int8 import METHOD, invariant_quantizer

            extra = {"quantizer": invariant_quantizer([s for s, _ in pairs[100:164]]),
                     "method": METHOD}
        int8_dir = quantize_version(fp32_dir, int8_repo, name, 1, seq2seq_measure(pairs[:100]),
                                    max_drop=100.0, **extra)
        repositories = {"fp32": fp32_repo, "int8": int8_repo}
        pythons: dict[str, str] = {}
        if args.before_python:
            repositories.update({"fp32 before": fp32_repo, "int8 before": int8_repo})
            pythons = {"fp32 before": args.before_python, "int8 before": args.before_python}
        results = serve_and_measure(repositories, name, sources, references, args, pythons)
        for label, version_dir in (("fp32", fp32_dir), ("int8", int8_dir)):
            for c, run in results[label].items():
                print(f"{label} c={c:<3} median {run['sentences_per_s']:8.1f} sent/s "
                      f"(rounds {[round(x, 1) for x in run['all_sentences_per_s']]}), "
                      f"BLEU {run['bleu']:.2f}", flush=True)
            step = decoder_step_report(version_dir, rows=128)
            if label == "int8":  # the int8 graph's ops are not in the FLOP counter
                flops = results["fp32"]["decoder_step"]["gflop_per_step"]
                step["gflop_per_step"] = flops
                step["gflops"] = flops / (step["step_ms"] / 1000)
                step["fraction_of_peak"] = step["gflops"] / step["peak_gflops"]
            results[label]["decoder_step"] = step
            print(f"  {label} decoder step at 128 rows: {step['step_ms']:.2f} ms, "
                  f"{step['gflops']:.1f} GFLOP/s = {100 * step['fraction_of_peak']:.0f}% of the "
                  f"fp32 matmul peak measured now ({step['peak_gflops']:.0f} GFLOP/s)", flush=True)
    ratios = {c: results["int8"][c]["sentences_per_s"] / results["fp32"][c]["sentences_per_s"]
              for c in map(str, args.concurrency)}
    step_ratio = (results["fp32"]["decoder_step"]["step_ms"]
                  / results["int8"]["decoder_step"]["step_ms"])
    # Per round too: int8 and fp32 of one round ran back to back, so their ratio is
    # the one least moved by the machine's load drifting between rounds.
    round_ratios = {c: _round_ratios(results, "fp32", "int8", c) for c in ratios}
    for c, ratio in ratios.items():
        print(f"int8 / fp32 at concurrency {c}: {ratio:.2f}x sentences/s (per round: "
              f"{_spread(round_ratios[c])}), BLEU {results['fp32'][c]['bleu']:.2f} -> "
              f"{results['int8'][c]['bleu']:.2f}")
    if args.before_python:
        for c in ratios:
            gain = _spread(_round_ratios(results, "fp32 before", "int8 before", c))
            fp32 = _spread(_round_ratios(results, "fp32 before", "fp32", c))
            int8 = _spread(_round_ratios(results, "int8 before", "int8", c))
            print(f"before build at concurrency {c}: int8 / fp32 per round {gain}; "
                  f"this build / before: fp32 {fp32}, int8 {int8}")
    print(f"decoder step at 128 rows: int8 {step_ratio:.2f}x faster than fp32")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results, "int8_over_fp32": ratios,
                                    "int8_over_fp32_per_round": round_ratios,
                                    "decoder_step_speedup": step_ratio,
                                    "requests": len(sources), "beam": args.beam}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
