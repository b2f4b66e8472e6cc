"""fp32 vs int8 in the engine alone: the decode loop in this process, no gRPC (a script).

bench_int8.py measures what a client sees: the server's event loop, gRPC, the
tokenizer and the load generator share the interpreter and the cores with the
decode loop. This drives the same decode scheduler by hand in this thread
(schedule -> execute -> update, as its worker thread does) at a closed-loop
concurrency (a new sentence joins when one finishes), so the ratio here is the
engine's own int8 gain, and the gap to bench_int8.py's ratio is what the
serving front costs. Same sentences for both versions, rounds alternating.

    python tests/benchmarks/bench_int8_engine.py --repository /work/decoder-repo \\
        --model en-fr --versions 7 8 --pairs runs/en-fr/test.tsv
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.translator import Seq2SeqModel
from seqserve.server.repository.repository import ModelRepository


def closed_loop(model: Seq2SeqModel, sentences: list[str], concurrency: int,
                beam: int, max_length: int | None = None) -> tuple[float, float]:
    """(sentences/s, share of the wall time spent in update(): the beam bookkeeping)."""
    scheduler = model.scheduler
    waiting = iter(sentences)
    done = 0

    def submit_next() -> None:
        sentence = next(waiting, None)
        if sentence is None:
            return
        options = model.resolve(DecodingOptions(beam_size=beam, max_length=max_length))
        scheduler.submit(DecodeJob(model.tokenize([sentence]), options, finished))

    def finished(event: object) -> None:
        nonlocal done
        if isinstance(event, DoneEvent | ErrorEvent):
            done += 1
            submit_next()

    scheduler.send = lambda loop, sink, event: sink(event)  # type: ignore[method-assign]
    for _ in range(concurrency):
        submit_next()
    in_update = 0.0
    started = time.perf_counter()
    while done < len(sentences):
        with scheduler._cond:
            plan = scheduler.schedule()
        if plan is None:  # nothing queued or live while sentences are missing: a bug
            raise RuntimeError(f"decode loop idle with {done} of {len(sentences)} done")
        outputs = scheduler.execute(plan)
        before = time.perf_counter()
        scheduler.update(plan, outputs)
        in_update += time.perf_counter() - before
    wall = time.perf_counter() - started
    return len(sentences) / wall, in_update / wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repository", type=Path, required=True)
    p.add_argument("--model", default="en-fr")
    p.add_argument("--versions", type=int, nargs=2, required=True, metavar=("FP32", "INT8"))
    p.add_argument("--pairs", type=Path, required=True, help="held-out source<TAB>target")
    p.add_argument("--count", type=int, default=256)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--max-length", type=int, default=None,
                   help="default: the model's own; bench_int8.py serves with 64")
    args = p.parse_args()
    repository = ModelRepository(args.repository)
    models = {v: Seq2SeqModel(repository.resolve(args.model, v)) for v in args.versions}
    lines = [ln.split("\t")[0] for ln in args.pairs.read_text().splitlines() if "\t" in ln]
    sentences = lines[:args.count]
    fp32, int8 = args.versions
    for concurrency in args.concurrency:
        count = len(sentences) if concurrency > 1 else len(sentences) // 4
        for model in models.values():  # warm-up: arenas, caches
            closed_loop(model, sentences[:16], concurrency, args.beam, args.max_length)
        rates: dict[int, list[float]] = {v: [] for v in models}
        bookkeeping: dict[int, list[float]] = {v: [] for v in models}
        for r in range(args.rounds):
            for version in (fp32, int8) if r % 2 == 0 else (int8, fp32):
                rate, share = closed_loop(models[version], sentences[:count], concurrency,
                                          args.beam, args.max_length)
                rates[version].append(rate)
                bookkeeping[version].append(share)
        ratios = [b / a for a, b in zip(rates[fp32], rates[int8], strict=True)]
        print(f"c={concurrency:<3d} fp32 v{fp32} {statistics.median(rates[fp32]):7.1f} sent/s  "
              f"int8 v{int8} {statistics.median(rates[int8]):7.1f} sent/s  int8/fp32 "
              f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}); "
              f"update() share of wall: fp32 {statistics.median(bookkeeping[fp32]):.0%}, "
              f"int8 {statistics.median(bookkeeping[int8]):.0%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
