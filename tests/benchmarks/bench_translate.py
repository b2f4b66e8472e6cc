"""Translation throughput and latency: iteration-level vs static batching vs one at a time.

Starts the real server once per policy (continuous, static, sequential) on a
free 127.0.0.1 port, sends the same held-out sentences (one per request, beam
4) at concurrency 1, 8, 32 and 64, checks every policy returns the same
outputs, and prints sentences/s, p50/p99 latency and the ratios. Also times
the decoder step alone and reports its GFLOP/s against a measured fp32 matmul
peak. Writes JSON and a PNG plot.

    python tests/benchmarks/bench_translate.py --model-repository model_repository --model en-fr
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.benchmarks.decoder_flops import decoder_step_report
from tests.support.server_process import running_server

POLICIES = ("continuous", "static", "sequential")


def load_sentences(path: Path, count: int) -> list[str]:
    lines = [ln.split("\t")[0].strip() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln and len(ln.split()) <= 30]
    return lines[:count]


async def drive(address: str, model: str, sentences: list[str], concurrency: int,
                beam: int, max_length: int) -> dict:
    """Send every sentence once with `concurrency` in flight; return timings and outputs."""
    outputs: dict[int, list[int]] = {}
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.SeqServeStub(channel)
        options = pb.DecodingOptions(beam_size=beam, n_best=1, max_length=max_length)
        next_index = 0

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(sentences):
                index = next_index
                next_index += 1
                started = time.perf_counter()
                reply = await stub.Translate(pb.TranslateRequest(
                    model=model, sentences=[sentences[index]], options=options), timeout=300)
                latencies.append(time.perf_counter() - started)
                outputs[index] = list(reply.translations[0].hypotheses[0].tokens)

        # Warm up the connection and the graphs outside the timed window.
        await stub.Translate(pb.TranslateRequest(model=model, sentences=[sentences[0]],
                                                 options=options))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "sentences_per_s": len(sentences) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "requests": len(sentences),
        "seconds": elapsed,
        "outputs": [outputs[i] for i in range(len(sentences))],
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for policy, runs in results.items():
        xs = sorted(int(c) for c in runs)
        left.plot(xs, [runs[str(c)]["sentences_per_s"] for c in xs], marker="o", label=policy)
        right.plot(xs, [runs[str(c)]["p99_ms"] for c in xs], marker="o", label=policy)
    left.set(xscale="log", xlabel="concurrency", ylabel="sentences/s", title="throughput")
    right.set(xscale="log", yscale="log", xlabel="concurrency", ylabel="p99 latency (ms)",
              title="p99 latency")
    left.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-repository", type=Path, default=Path("model_repository"))
    parser.add_argument("--model", default="en-fr")
    parser.add_argument("--sentences", type=Path, default=Path("runs/en-fr/test.tsv"))
    parser.add_argument("--count", type=int, default=128, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("bench_results"))
    args = parser.parse_args()

    sentences = load_sentences(args.sentences, args.count)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {}
    for policy in POLICIES:
        results[policy] = {}
        with running_server(args.model_repository, extra_args=["--policy", policy]) as server:
            for concurrency in args.concurrency:
                run = asyncio.run(drive(server.address, args.model, sentences, concurrency,
                                        args.beam, args.max_length))
                results[policy][str(concurrency)] = run
                print(f"{policy:>10} c={concurrency:<3} {run['sentences_per_s']:8.1f} sent/s "
                      f"p50 {run['p50_ms']:8.1f} ms  p99 {run['p99_ms']:8.1f} ms", flush=True)

    reference = results["continuous"][str(args.concurrency[0])]["outputs"]
    same = all(run["outputs"] == reference for runs in results.values() for run in runs.values())
    print(f"\nidentical outputs across policies and concurrency: {same}")
    ratios = {}
    for c in args.concurrency:
        cont = results["continuous"][str(c)]["sentences_per_s"]
        ratios[str(c)] = {
            "continuous_over_sequential": cont / results["sequential"][str(c)]["sentences_per_s"],
            "continuous_over_static": cont / results["static"][str(c)]["sentences_per_s"],
        }
        print(f"c={c:<3} continuous/sequential {ratios[str(c)]['continuous_over_sequential']:5.2f}x"
              f"  continuous/static {ratios[str(c)]['continuous_over_static']:5.2f}x")

    version_dirs = sorted((args.model_repository / args.model).iterdir(),
                          key=lambda p: int(p.name) if p.name.isdigit() else -1)
    flops = decoder_step_report(version_dirs[-1], rows=32 * args.beam)
    print(f"\ndecoder step at {flops['rows']} rows: {flops['step_ms']:.2f} ms, "
          f"{flops['gflop_per_step']:.3f} GFLOP -> {flops['gflops']:.1f} GFLOP/s; "
          f"measured fp32 matmul peak {flops['peak_gflops']:.1f} GFLOP/s "
          f"({100 * flops['fraction_of_peak']:.0f}% of peak)")
    print(f"decoder step for one request's beam ({flops['beam_rows']} rows): "
          f"{flops['beam_step_ms']:.2f} ms -> a row costs {flops['per_row_cost_ratio']:.1f}x "
          f"more alone than in a {flops['rows']}-row batch (the ceiling of the batching gain)")

    for runs in results.values():
        for run in runs.values():
            run.pop("outputs")
    report = {"results": results, "ratios": ratios, "identical_outputs": same,
              "decoder_step": flops, "beam": args.beam, "requests": len(sentences)}
    (args.out / "translate.json").write_text(json.dumps(report, indent=2))
    plot(results, args.out / "translate.png")
    print(f"wrote {args.out / 'translate.json'} and {args.out / 'translate.png'}")
    return 0 if same else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
