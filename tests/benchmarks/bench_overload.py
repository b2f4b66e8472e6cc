"""Overload: answered throughput, rejection latency and health latency at ~10x capacity.

Starts the real server on a repository, measures capacity (sentences/s at
concurrency 32, no deadline), then offers 10x that rate open-loop for
`--seconds` with `--deadline` s deadlines, probing health every 100 ms, and
prints: answered/s vs capacity (the offered load comes from `--clients`
processes, so the client does not measure itself), answered p50/p99, rejection p50/p99 by code,
health p50/max, and the latency of one request 1 s after the load stops.

    flock /tmp/seqserve-bench.lock python tests/benchmarks/bench_overload.py \
        --model-repository DIR --model numbers
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import running_server


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def make(args: argparse.Namespace, i: int) -> pb.TranslateRequest:
    options = pb.DecodingOptions(beam_size=args.beam_size, max_length=args.max_length,
                                 min_length=args.min_length)
    return pb.TranslateRequest(model=args.model, sentences=[f"{i % 997} thousand"],
                               options=options)


async def capacity(client, args: argparse.Namespace, seconds: float) -> float:
    done, end = 0, time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        i = 0
        while time.monotonic() < end:
            await client.Translate(make(args, i),
                                   timeout=60)
            done, i = done + 1, i + 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(32)))
    return done / (time.monotonic() - started)


Outcome = tuple[int, list[float], dict[str, list[float]]]
"""(requests offered, answered latencies, refused latencies by status code)."""


async def _offer(address: str, args: argparse.Namespace, rate: float, offset: int) -> Outcome:
    """One client process's share: open loop at `rate`, whatever the answers."""
    answered: list[float] = []
    refused: dict[str, list[float]] = collections.defaultdict(list)
    async with grpc.aio.insecure_channel(address) as channel:
        client = pb_grpc.SeqServeStub(channel)

        async def one(i: int) -> None:
            started = time.monotonic()
            try:
                await client.Translate(make(args, i),
                                       timeout=args.deadline)
                answered.append(time.monotonic() - started)
            except grpc.aio.AioRpcError as exc:
                refused[exc.code().name].append(time.monotonic() - started)

        tasks, i, started = [], 0, time.monotonic()
        end = started + args.seconds
        while time.monotonic() < end:
            due = started + i / rate
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            tasks.append(asyncio.ensure_future(one(offset + i)))
            i += 1
        await asyncio.gather(*tasks)
    return i, answered, dict(refused)


def _client_process(address: str, args: argparse.Namespace, rate: float, offset: int) -> Outcome:
    return asyncio.run(_offer(address, args, rate, offset))


async def overload(address: str, args: argparse.Namespace) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        client = pb_grpc.SeqServeStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        cap = await capacity(client, args, args.seconds / 2)
        rate = cap * args.factor
        health_seen: list[float] = []
        health_failed: collections.Counter[str] = collections.Counter()

        async def probe(end: float) -> None:
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
                except grpc.aio.AioRpcError as exc:  # counted, not fatal: say how it ended
                    health_failed[exc.code().name] += 1
                health_seen.append(time.monotonic() - started)
                await asyncio.sleep(0.1)

        # The offered load comes from several processes: one asyncio loop alone
        # cannot offer thousands of calls/s, and would then measure itself.
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(args.clients, mp_context=get_context("spawn")) as pool:
            shares = [loop.run_in_executor(pool, _client_process, address, args,
                                           rate / args.clients, k * 1_000_000)
                      for k in range(args.clients)]
            prober = asyncio.ensure_future(probe(time.monotonic() + args.seconds + 1))
            outcomes = await asyncio.gather(*shares)
            await prober
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        await client.Translate(make(args, 1), timeout=60)
        recovery = time.monotonic() - t0
    offered = sum(o[0] for o in outcomes)
    answered = [t for o in outcomes for t in o[1]]
    refused: dict[str, list[float]] = collections.defaultdict(list)
    for o in outcomes:
        for code, times in o[2].items():
            refused[code] += times
    took = args.seconds
    print(f"capacity            {cap:8.1f} req/s (concurrency 32, no deadline)")
    print(f"offered             {offered / took:8.1f} req/s ({offered / took / cap:.1f}x, "
          f"asked {args.factor:g}x, {args.clients} client processes), "
          f"deadline {args.deadline} s")
    print(f"answered            {len(answered) / took:8.1f} req/s = "
          f"{len(answered) / took / cap:.0%} of capacity; p50 {pct(answered, .5):.3f} s "
          f"p99 {pct(answered, .99):.3f} s; late (> deadline) "
          f"{sum(t > args.deadline for t in answered)}")
    for code, times in sorted(refused.items()):
        print(f"refused {code:20s} {len(times):6d}  p50 {pct(times, .5) * 1000:7.1f} ms "
              f"p99 {pct(times, .99) * 1000:7.1f} ms")
    print(f"health              p50 {pct(health_seen, .5) * 1000:.1f} ms "
          f"max {max(health_seen) * 1000:.1f} ms ({len(health_seen)} probes"
          f"{', failed ' + dict(health_failed).__repr__() if health_failed else ''})")
    print(f"request 1 s after   {recovery:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-repository", type=Path, required=True)
    parser.add_argument("--model", default="numbers")
    parser.add_argument("--factor", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-length", type=int, default=40)
    parser.add_argument("--min-length", type=int, default=40,
                        help="forced decode steps per sentence (a steady, known cost)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--server-args", default="",
                        help="extra `seqserve serve` flags, e.g. '--grace 5'")
    args = parser.parse_args()
    with running_server(args.model_repository, extra_args=args.server_args.split()) as server:
        asyncio.run(overload(server.address, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
