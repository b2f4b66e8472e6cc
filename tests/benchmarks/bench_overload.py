"""Overload: answered throughput, rejection latency and health latency at ~10x capacity.

Starts the real server on a repository, measures capacity (answered/s with 32
calls in flight, no deadline), then offers 10x that rate open-loop for
`--seconds` with `--deadline` s deadlines, probing health every 100 ms, and
prints: answered/s vs capacity, answered p50/p99, refusals by code with
p50/p99, health p50/max, and the latency of one request 1 s after the load.

The bulk load comes from h2load (`--load h2load`, the default when installed):
a Python client offering ~700 calls/s takes about a core of a 2-core machine
from the server it measures. h2load cannot see gRPC status codes, so a Python
probe sends `--probe-share` of the calls (same request, same deadline) and
records each call's code and latency: the per-code figures are the probe's,
and the totals are cross-checked with the server's per-code RPC counters.
`--load python` is the old way (client processes, every call recorded).
`--before-python` runs the same measurement first against a server started by
another interpreter (a venv of an older checkout): before and after, one run.
`--balancer MAXCONN` measures each server twice, directly and then through
HAProxy on the shipped deploy/haproxy/haproxy.cfg with the decode backend's
`maxconn` set to MAXCONN: there the balancer refuses what finds no slot within
its `timeout queue`, and the replica's Python never sees it.

    flock /tmp/seqserve-bench.lock python tests/benchmarks/bench_overload.py \
        --model-repository DIR --model numbers
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import math
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.benchmarks import overload_h2load
from tests.support.haproxy_process import TEMPLATE, running_haproxy
from tests.support.server_process import ServerProcess, running_server

TRANSLATE_PATH = "/seqserve.v1.SeqServe/Translate"


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


def served_by_code(server: ServerProcess) -> collections.Counter[str]:
    """The server's own count of Translate endings by gRPC code, and (keys "le=X") its
    histogram of answered latency / the latency admission predicted."""
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    counts: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("seqserve_requests_total{") and 'method="Translate"' in line:
            code = line.split('code="', 1)[1].split('"', 1)[0]
            counts[code] += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith('seqserve_aborted_sentences_total{model="') and \
                'reason="deadline"' in line:
            counts["expired after admission"] += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("seqserve_admission_latency_ratio_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            counts[f"le={bound}"] += int(float(line.rsplit(" ", 1)[1]))
    return counts


def ratio_summary(served: collections.Counter[str]) -> str:
    """How answered latencies compared with admission's predictions (cumulative buckets)."""
    total = served.get("le=+Inf", 0)
    if not total:
        return "no predictions recorded"
    bounds = sorted((float(k[3:]), v) for k, v in served.items()
                    if k.startswith("le=") and k != "le=+Inf")
    median = next((b for b, v in bounds if v >= total / 2), math.inf)
    p90 = next((b for b, v in bounds if v >= total * 0.9), math.inf)
    within = dict(bounds).get(1.0, 0) / total
    return (f"{total} answered: actual/predicted p50 <= {median:g}, p90 <= {p90:g}, "
            f"{within:.0%} at or under the prediction")


@dataclass
class Calls:
    """Calls one client recorded: answered latencies, refused latencies by code."""

    offered: int = 0
    answered: list[float] = field(default_factory=list)
    refused: dict[str, list[float]] = field(default_factory=dict)

    def add(self, other: Calls) -> None:
        self.offered += other.offered
        self.answered += other.answered
        for code, times in other.refused.items():
            self.refused.setdefault(code, []).extend(times)


async def offer(client, args: argparse.Namespace, rate: float, seconds: float,
                offset: int) -> Calls:
    """Open loop at `rate` calls/s for `seconds`, whatever the answers; every call recorded."""
    calls = Calls()

    async def one(i: int) -> None:
        started = time.monotonic()
        try:
            await client.Translate(make(args, i), timeout=args.deadline)
            calls.answered.append(time.monotonic() - started)
        except grpc.aio.AioRpcError as exc:
            calls.refused.setdefault(exc.code().name, []).append(time.monotonic() - started)

    tasks, i, started = [], 0, time.monotonic()
    while time.monotonic() < started + seconds:
        due = started + i / rate
        if due > time.monotonic():
            await asyncio.sleep(due - time.monotonic())
        tasks.append(asyncio.ensure_future(one(offset + i)))
        i += 1
    await asyncio.gather(*tasks)
    calls.offered = i
    return calls


async def _offer_alone(address: str, args: argparse.Namespace, rate: float,
                       offset: int) -> Calls:
    async with grpc.aio.insecure_channel(address) as channel:
        return await offer(pb_grpc.SeqServeStub(channel), args, rate, args.seconds, offset)


def _client_process(address: str, args: argparse.Namespace, rate: float, offset: int) -> Calls:
    return asyncio.run(_offer_alone(address, args, rate, offset))


async def python_capacity(client, args: argparse.Namespace, seconds: float) -> float:
    done, end = 0, time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        i = 0
        while time.monotonic() < end:
            await client.Translate(make(args, i), timeout=60)
            done, i = done + 1, i + 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(32)))
    return done / (time.monotonic() - started)


def h2load_capacity(server: ServerProcess, url: str, body: Path, seconds: float) -> float:
    before = served_by_code(server)
    took = overload_h2load.run(url, body, rate=None, seconds=seconds, deadline=None,
                               connections=1).seconds
    return (served_by_code(server)["OK"] - before["OK"]) / took


@dataclass
class Measured:
    load: str
    capacity: float
    rate: float
    probe: Calls
    bulk_offered: int
    served: collections.Counter[str]
    health: list[float]
    health_failed: collections.Counter[str]
    recovery: float


async def health_probe(health, end: float, seen: list[float],
                       failed: collections.Counter[str]) -> None:
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        except grpc.aio.AioRpcError as exc:  # counted, not fatal: say how it ended
            failed[exc.code().name] += 1
        seen.append(time.monotonic() - started)
        await asyncio.sleep(0.1)


async def measure(server: ServerProcess, args: argparse.Namespace, load: str,
                  body: Path, front: str) -> Measured:
    """`front`: where clients send (the server, or a balancer before it); the server's
    own counters are read either way."""
    url = f"http://{front}{TRANSLATE_PATH}"
    async with grpc.aio.insecure_channel(front) as channel:
        client = pb_grpc.SeqServeStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        for i in range(4):  # warm up: the scheduler measures its rates
            await client.Translate(make(args, i), timeout=60)
        if load == "h2load":
            # The whole --seconds: identical requests finish in waves of 32, so a short
            # window is off by up to a wave (+-6 req/s over 5 s).
            cap = await asyncio.to_thread(h2load_capacity, server, url, body, args.seconds)
        else:
            cap = await python_capacity(client, args, args.seconds / 2)
        rate = cap * args.factor
        seen: list[float] = []
        failed: collections.Counter[str] = collections.Counter()
        before = served_by_code(server)
        prober = asyncio.ensure_future(
            health_probe(health, time.monotonic() + args.seconds + 1, seen, failed))
        probe, bulk_offered = Calls(), 0
        if load == "h2load":
            probe_rate = rate * args.probe_share
            bulk = asyncio.to_thread(
                overload_h2load.run, url, body, rate=rate - probe_rate, seconds=args.seconds,
                deadline=args.deadline, connections=args.connections)
            async with grpc.aio.insecure_channel(front) as probe_channel:
                probe_calls, bulk_result = await asyncio.gather(
                    offer(pb_grpc.SeqServeStub(probe_channel), args, probe_rate,
                          args.seconds, 0), bulk)
            probe.add(probe_calls)
            bulk_offered = bulk_result.started
        else:
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor(args.clients, mp_context=get_context("spawn")) as pool:
                shares = [loop.run_in_executor(pool, _client_process, front, args,
                                               rate / args.clients, k * 1_000_000)
                          for k in range(args.clients)]
                for calls in await asyncio.gather(*shares):
                    probe.add(calls)
        await prober
        served = served_by_code(server)
        served.subtract(before)
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        await client.Translate(make(args, 1), timeout=60)
        recovery = time.monotonic() - t0
    return Measured(load, cap, rate, probe, bulk_offered, served, seen, failed, recovery)


def report(label: str, m: Measured, args: argparse.Namespace) -> None:
    took, cap, probe = args.seconds, m.capacity, m.probe
    offered = probe.offered + m.bulk_offered
    source = (f"h2load {m.bulk_offered} + python probe {probe.offered} calls"
              if m.load == "h2load" else f"{args.clients} python client processes")
    answered_fraction = len(probe.answered) / max(1, probe.offered)
    print(f"== {label}")
    print(f"capacity            {cap:8.1f} req/s (32 in flight, no deadline, {m.load} client)")
    print(f"offered             {offered / took:8.1f} req/s ({offered / took / cap:.1f}x, "
          f"asked {args.factor:g}x; {source}), deadline {args.deadline} s")
    server_ok = m.served.get("OK", 0)
    codes = {k: v for k, v in m.served.items() if k.isupper()}
    print(f"answered (server)   {server_ok / took:8.1f} req/s = {server_ok / took / cap:.0%} of "
          f"capacity; every ending by code: {dict(sorted(codes.items()))} "
          f"(sum {sum(codes.values())} vs {offered} offered)")
    print(f"admission estimate  {ratio_summary(m.served)}")
    print(f"expired after admission (server) {m.served.get('expired after admission', 0)} "
          "sentences (queued or decoding): each one a refusal that was not immediate")
    print(f"answered (probe)    {answered_fraction:.1%} of {probe.offered} calls -> "
          f"{answered_fraction * offered / took:.1f} req/s = "
          f"{answered_fraction * offered / took / cap:.0%} of capacity; "
          f"p50 {pct(probe.answered, .5):.3f} s p99 {pct(probe.answered, .99):.3f} s; "
          f"late (> deadline) {sum(t > args.deadline for t in probe.answered)}")
    for code, times in sorted(probe.refused.items()):
        print(f"refused {code:20s} {len(times):6d}  p50 {pct(times, .5) * 1000:7.1f} ms "
              f"p99 {pct(times, .99) * 1000:7.1f} ms; over 50 ms: "
              f"{sum(t > 0.05 for t in times)}")
    failed = f", failed {dict(m.health_failed)}" if m.health_failed else ""
    print(f"health              p50 {pct(m.health, .5) * 1000:.1f} ms "
          f"max {max(m.health) * 1000:.1f} ms ({len(m.health)} probes{failed})")
    print(f"request 1 s after   {m.recovery:.3f} s", flush=True)


@contextlib.contextmanager
def balancer(server: ServerProcess, maxconn: int) -> Iterator[str]:
    """The shipped HAProxy config before this one server; its address."""
    text = TEMPLATE.read_text()
    shipped = "default-server maxconn 128"
    assert shipped in text, "the decode backend's maxconn line changed: update the bench"
    port = int(server.address.rsplit(":", 1)[1])
    with running_haproxy([(port, server.metrics_port)],
                         text.replace(shipped, f"default-server maxconn {maxconn}")) as proxy:
        deadline = time.monotonic() + 10  # first check passed: the replica is UP
        while "L7OK" not in proxy.server_states("decode").get("replica1", ""):
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica never UP: {proxy.server_states('decode')}")
            time.sleep(0.1)
        yield proxy.address


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
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--load", choices=["auto", "h2load", "python"], default="auto",
                        help="bulk load generator (auto: h2load when installed)")
    parser.add_argument("--clients", type=int, default=2, help="python: client processes")
    parser.add_argument("--connections", type=int, default=4, help="h2load: connections")
    parser.add_argument("--probe-share", type=float, default=0.05,
                        help="h2load: share of the calls sent by the recording Python probe")
    parser.add_argument("--before-python", default="",
                        help="first measure a server run by this interpreter (older checkout)")
    parser.add_argument("--balancer", type=int, default=0, metavar="MAXCONN",
                        help="also measure through HAProxy (shipped config, decode maxconn)")
    parser.add_argument("--server-args", default="",
                        help="extra `seqserve serve` flags, e.g. '--grace 5'")
    args = parser.parse_args()
    load = args.load
    if load == "auto":
        load = "h2load" if overload_h2load.available() else "python"
    if load == "h2load":
        print(f"load generator: {overload_h2load.version()}, {args.connections} connections, "
              f"plus a python probe at {args.probe_share:.0%} of the rate")
    servers = [("before", args.before_python)] if args.before_python else []
    servers.append(("this checkout", sys.executable))
    with tempfile.TemporaryDirectory() as tmp:
        body = overload_h2load.write_grpc_body(make(args, 5), Path(tmp) / "translate.bin")
        for label, python in servers:
            with running_server(args.model_repository, extra_args=args.server_args.split(),
                                python=python) as server:
                measured = asyncio.run(measure(server, args, load, body, server.address))
                report(f"{label} ({python}), direct", measured, args)
                if args.balancer:
                    with balancer(server, args.balancer) as front:
                        measured = asyncio.run(measure(server, args, load, body, front))
                    report(f"{label} ({python}), through HAProxy, decode maxconn "
                           f"{args.balancer}", measured, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
