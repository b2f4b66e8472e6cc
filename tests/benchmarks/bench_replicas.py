"""Replicas: what `--workers N` buys behind HAProxy, and what a Redis snapshot costs.

- sessions: S sessions x R one-step chunks/s, one Predict stream per session carrying
  the x-seqserve-session header, through HAProxy (deploy/haproxy/haproxy.cfg) to
  `seqserve serve --workers N --session-store redis://...`, N = 1, 2, 4:
  achieved steps/s and per-step p50/p99.
- translate: sentences/s at concurrency 32 (unary Translate, round robin), N = 1 vs 2.
- snapshots: one tick's save_many of K sessions' real state rows (co2), memory vs
  SQLite (WAL, one transaction) vs Redis (one script call), ms per tick.

Writes JSON and a PNG. Run alone (the machine is shared: compare ratios within a run):

    flock /tmp/seqserve-bench.lock python tests/benchmarks/bench_replicas.py \\
        --model-repository /work/test-cache/replicas-repo --sessions 300 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.client.session_client import open_message, session_metadata
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.benchmarks.bench_sessions import _paced
from tests.support.haproxy_process import running_haproxy
from tests.support.redis_process import RedisProcess, running_redis
from tests.support.server_process import LISTENING, free_port


@contextlib.contextmanager
def workers(repository: Path, count: int, store: str) -> Iterator[list[tuple[int, int]]]:
    """`seqserve serve --workers count`; yields (gRPC port, metrics port) per worker."""
    port, metrics = free_port(), free_port()
    while any(p in range(port, port + count) for p in range(metrics, metrics + count)):
        metrics = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "seqserve.server.cli", "serve", "--model-repository",
         str(repository), "--port", str(port), "--metrics-port", str(metrics),
         "--workers", str(count), "--session-store", store, "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 180
    while sum(LISTENING in line for line in lines) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("workers did not start:\n" + "".join(lines))
        time.sleep(0.1)
    try:
        yield [(port + i, metrics + i) for i in range(count)]
    finally:
        process.terminate()
        process.wait(60)


async def sessions_load(address: str, sessions: int, rate: float, seconds: float) -> dict:
    message = pb.PredictRequest(chunk=pb.Chunk(values=pb.FloatValues(values=[340.0])))
    tag = f"{time.time_ns()}"
    # Several client connections, as many users behind a few gateways would be.
    # (A local subchannel pool each: otherwise equal channels share one connection.)
    channels = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(max(1, sessions // 250))]
    async with contextlib.AsyncExitStack() as stack:
        for channel in channels:
            await stack.enter_async_context(channel)
        stubs = [pb_grpc.SeqServeStub(channel) for channel in channels]

        async def open_one(i: int):  # -> a grpc.aio stream call
            sid = f"bench-{tag}-{i}"
            call = stubs[i % len(stubs)].Predict(metadata=session_metadata(sid))
            await call.write(open_message("co2", sid))
            await call.read()
            return call

        calls = [await open_one(i) for i in range(sessions)]

        async def step(i: int) -> None:
            await calls[i].write(message)
            await calls[i].read()

        result = await _paced(sessions, rate, seconds, step)
        for call in calls:
            await call.done_writing()
            await call.read()
    return result


async def translate_load(address: str, concurrency: int, seconds: float) -> dict:
    sentences = ["twenty one", "three hundred and four", "seventy seven", "nine"]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.SeqServeStub(channel)

        async def one(i: int) -> None:
            k = i
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await stub.Translate(pb.TranslateRequest(
                    model="numbers", sentences=[sentences[k % len(sentences)]]), timeout=60)
                latencies.append(time.perf_counter() - started)
                k += 1

        started = time.perf_counter()
        await asyncio.gather(*[one(i) for i in range(concurrency)])
        elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {"sentences_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2)}


def snapshot_costs(repository: Path, redis: RedisProcess, counts: list[int],
                   ticks: int) -> dict:
    from seqserve.server.engine.sessions.model import StreamingModel
    from seqserve.server.engine.sessions.redis_store import RedisSessionStore
    from seqserve.server.engine.sessions.store import MemoryStore, Snapshot, SqliteStore
    from seqserve.server.repository.repository import ModelRepository

    model = StreamingModel(ModelRepository(repository).resolve("co2"))
    row_bytes = model.scheduler.pool.row_bytes
    model.store.close()
    report: dict = {"state_bytes_per_session": row_bytes}
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            stores = {"memory": MemoryStore(4 * count),
                      "sqlite": SqliteStore(Path(tmp) / f"s{count}.sqlite"),
                      "redis": RedisSessionStore(redis.url, lease_seconds=30, ttl_seconds=600)}
            sids = [f"snap-{count}-{i}" for i in range(count)]
            for sid in sids:
                stores["redis"].claim("co2", sid)
            state = np.random.default_rng(0).bytes(row_bytes)
            row = {}
            for name, store in stores.items():
                times = []
                for tick in range(ticks):
                    snaps = [Snapshot("co2", sid, 1, tick, state) for sid in sids]
                    started = time.perf_counter()
                    store.save_many(snaps)
                    times.append(time.perf_counter() - started)
                row[name] = {"ms_per_tick": round(statistics.median(times) * 1000, 3),
                             "us_per_session": round(statistics.median(times) * 1e6 / count, 2)}
                store.close()
            report[str(count)] = row
            print(f"snapshots x{count}: " + ", ".join(
                f"{k} {v['ms_per_tick']} ms" for k, v in row.items()), flush=True)
    return report


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    sess = report["sessions"]
    ns = sorted(int(n) for n in sess)
    axes[0].bar([str(n) for n in ns], [sess[str(n)]["steps_per_s"] for n in ns])
    axes[0].set(title=f"sessions via HAProxy ({report['load']})", xlabel="workers",
                ylabel="steps/s")
    for i, n in enumerate(ns):
        axes[0].annotate(f"p50 {sess[str(n)]['p50_ms']} ms\np99 {sess[str(n)]['p99_ms']} ms",
                         (i, sess[str(n)]["steps_per_s"]), ha="center", va="bottom", fontsize=8)
    tr = report["translate"]
    axes[1].bar(list(tr), [tr[n]["sentences_per_s"] for n in tr])
    axes[1].set(title="translate, concurrency 32", xlabel="workers", ylabel="sentences/s")
    snaps = report["snapshots"]
    counts = [k for k in snaps if k.isdigit()]
    width = 0.25
    for j, name in enumerate(("memory", "sqlite", "redis")):
        axes[2].bar([i + j * width for i in range(len(counts))],
                    [snaps[c][name]["ms_per_tick"] for c in counts], width, label=name)
    axes[2].set_xticks([i + width for i in range(len(counts))], [f"{c} sessions" for c in counts])
    axes[2].set(title="one tick's snapshots", ylabel="ms per tick")
    axes[2].legend()
    fig.suptitle("seqserve replicas (2 shared cores; compare ratios within this run)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-repository", type=Path, required=True,
                        help="holds co2 (streaming) and numbers (translator)")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="steps/s per session")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--translate-workers", default="1,2")
    parser.add_argument("--snapshot-sessions", default="64,512")
    parser.add_argument("--ticks", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("bench_replicas.json"))
    args = parser.parse_args(argv)
    report: dict = {"load": f"{args.sessions} sessions x {args.rate:g} steps/s",
                    "sessions": {}, "translate": {}}
    with running_redis() as redis:
        report["snapshots"] = snapshot_costs(
            args.model_repository, redis, [int(c) for c in args.snapshot_sessions.split(",")],
            args.ticks)
        for count in [int(n) for n in args.workers.split(",")]:
            with workers(args.model_repository, count, redis.url) as ports, \
                    running_haproxy(ports) as balancer:
                balancer.wait_states({f"replica{i + 1}": "UP" for i in range(count)})
                result = asyncio.run(sessions_load(balancer.address, args.sessions,
                                                   args.rate, args.seconds))
                report["sessions"][str(count)] = result
                print(f"sessions, {count} worker(s): {result}", flush=True)
                if str(count) in args.translate_workers.split(","):
                    tr = asyncio.run(translate_load(balancer.address, 32, args.seconds))
                    report["translate"][str(count)] = tr
                    print(f"translate, {count} worker(s): {tr}", flush=True)
            redis.client().flushall()
    args.out.write_text(json.dumps(report, indent=2))
    plot(report, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
