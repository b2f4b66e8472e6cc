"""Two builds of the server, same machine, one run: is B slower than A? (a script, not a test)

On a shared 2-core machine a whole benchmark run of build A and then of build B
measures the neighbours as much as the builds. This starts both servers at once
(each from its own interpreter, e.g. a checkout of the old commit with its own
venv), on the same model repository, and alternates short bursts A, B, B, A, ...
for every workload, so both see the same noise. Only one server is driven at a
time; the other idles. Per workload it prints each build's median rate and the
median of the per-round B/A ratios (> 1: B faster), with the per-round spread.

Workloads (the project's three benchmarks, cut to bursts): Translate at
concurrency 1 and 16 (beam 4), Tag at 1 and 16, Caption at 1 and 32, and
closed-loop Predict streams (one step per message) on a streaming model.

    python tests/benchmarks/bench_ab.py --python-a OLD/.venv/bin/python \\
        --python-b .venv/bin/python --model-repository model_repository \\
        --translator en-fr --sentences runs/en-fr/test.tsv --tagger tagger \\
        --captioner captioner --session-model charlm --rounds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.benchmarks.bench_tag_caption import caption_requests, tag_requests
from tests.benchmarks.bench_translate import load_sentences
from tests.support.server_process import running_server

Burst = Callable[[pb_grpc.SeqServeStub], Awaitable[float]]
"""One short measurement against one server: units per second."""


async def closed_loop(call: Callable[[object], Awaitable[object]], requests: list,
                      concurrency: int) -> float:
    """Send every request once with `concurrency` in flight; requests per second."""
    pending = iter(requests)

    async def worker() -> None:
        for request in pending:
            await call(request)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(requests) / (time.perf_counter() - started)


def unary_burst(method: str, requests: list, concurrency: int) -> Burst:
    async def burst(stub: pb_grpc.SeqServeStub) -> float:
        call = getattr(stub, method)
        return await closed_loop(lambda r: call(r, timeout=120), requests, concurrency)
    return burst


def stream_burst(model: str, sessions: int, seconds: float, token_ids: list[int]) -> Burst:
    """`sessions` Predict streams, each sending its next one-step chunk as soon as the
    last answer arrives, for `seconds`: steps per second over all streams."""
    async def burst(stub: pb_grpc.SeqServeStub) -> float:
        stop_at = time.perf_counter() + seconds
        steps = 0

        async def one(index: int) -> None:
            nonlocal steps
            queue: asyncio.Queue[pb.PredictRequest | None] = asyncio.Queue()

            async def messages():  # type: ignore[no-untyped-def]
                while (message := await queue.get()) is not None:
                    yield message

            await queue.put(pb.PredictRequest(open=pb.OpenSessionRequest(model=model)))
            call = stub.Predict(messages(), timeout=60)
            await call.read()  # the open's answer
            step = index
            while time.perf_counter() < stop_at:
                token = token_ids[step % len(token_ids)]
                await queue.put(pb.PredictRequest(chunk=pb.Chunk(tokens=pb.TokenIds(ids=[token]))))
                await call.read()
                steps += 1
                step += 1
            await queue.put(None)
            with contextlib.suppress(grpc.aio.AioRpcError):
                while await call.read() != grpc.aio.EOF:
                    pass

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(sessions)))
        return steps / (time.perf_counter() - started)
    return burst


def workloads(args: argparse.Namespace) -> dict[str, Burst]:
    found: dict[str, Burst] = {}
    if args.translator:
        sentences = load_sentences(args.sentences, 96)
        requests = [pb.TranslateRequest(model=args.translator, sentences=[s],
                                        options=pb.DecodingOptions(beam_size=4))
                    for s in sentences]
        found["translate c=1 (sent/s)"] = unary_burst("Translate", requests[:24], 1)
        found["translate c=16 (sent/s)"] = unary_burst("Translate", requests, 16)
    if args.tagger:
        requests = tag_requests(args.tagger, 600)
        found["tag c=1 (sent/s)"] = unary_burst("Tag", requests[:200], 1)
        found["tag c=16 (sent/s)"] = unary_burst("Tag", requests, 16)
    if args.captioner:
        requests = caption_requests(args.captioner, 256)
        found["caption c=1 (img/s)"] = unary_burst("Caption", requests[:48], 1)
        found["caption c=32 (img/s)"] = unary_burst("Caption", requests, 32)
    if args.session_model:
        found[f"sessions {args.sessions} streams (steps/s)"] = stream_burst(
            args.session_model, args.sessions, args.stream_seconds, list(range(3, 60)))
    return found


async def measure(addresses: dict[str, str], bursts: dict[str, Burst],
                  rounds: int) -> dict[str, dict[str, list[float]]]:
    rates: dict[str, dict[str, list[float]]] = {name: {"A": [], "B": []} for name in bursts}
    channels = {side: grpc.aio.insecure_channel(address) for side, address in addresses.items()}
    stubs = {side: pb_grpc.SeqServeStub(channel) for side, channel in channels.items()}
    try:
        for name, burst in bursts.items():
            for side in ("A", "B"):  # warm-up: graphs, arenas, channels
                await burst(stubs[side])
            for r in range(rounds):
                for side in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    rates[name][side].append(await burst(stubs[side]))
            a, b = rates[name]["A"], rates[name]["B"]
            ratios = [y / x for x, y in zip(a, b, strict=True)]
            print(f"{name:32s} A {statistics.median(a):9.1f}  B {statistics.median(b):9.1f}  "
                  f"B/A median {statistics.median(ratios):.2f} "
                  f"(rounds {min(ratios):.2f}-{max(ratios):.2f})", flush=True)
    finally:
        for channel in channels.values():
            await channel.close()
    return rates


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python-a", required=True, help="interpreter serving build A (before)")
    p.add_argument("--python-b", default=sys.executable, help="build B (after; default: this)")
    p.add_argument("--model-repository", type=Path, required=True)
    p.add_argument("--model-repository-b", type=Path, default=None,
                   help="B serves this copy instead (same models, another config.yaml: "
                        "A/B of a setting with one build)")
    p.add_argument("--translator", default="")
    p.add_argument("--sentences", type=Path, default=Path("runs/en-fr/test.tsv"))
    p.add_argument("--tagger", default="")
    p.add_argument("--captioner", default="")
    p.add_argument("--session-model", default="", help="a token (character) streaming model")
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--stream-seconds", type=float, default=1.5)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--out", type=Path, default=Path("bench_ab.json"))
    args = p.parse_args()
    bursts = workloads(args)
    with running_server(args.model_repository, python=args.python_a) as a, \
            running_server(args.model_repository_b or args.model_repository,
                           python=args.python_b) as b:
        print(f"A: {args.python_a} at {a.address}\nB: {args.python_b} at {b.address}\n"
              f"{args.rounds} rounds per workload, order A,B then B,A alternating", flush=True)
        rates = asyncio.run(measure({"A": a.address, "B": b.address}, bursts, args.rounds))
    args.out.write_text(json.dumps({"python_a": args.python_a, "python_b": args.python_b,
                                    "rates": rates}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
