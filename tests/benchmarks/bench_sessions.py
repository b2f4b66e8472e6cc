"""Streaming sessions under load: many sessions sending one-step chunks at a fixed rate.

Two drivers, both printing steps/s, p50/p99 per-step latency and memory per session:

- engine: the StreamingModel in this process (the scheduler thread as served, no
  gRPC): N sessions at R steps/s each, for 100/1,000/2,000 sessions; then a
  closed loop (every session sends its next step as soon as the last returns)
  to saturate, with batching on (continuous) and off (sequential: one session
  per run), and their ratio.
- grpc: the real server as a subprocess, driven three ways at the same load:
  one Predict stream per session (one message per step); all sessions over
  one PredictMany stream (SessionMux batches the steps of a few ms into one
  message); and, as the floor, a bare grpc.aio echo server taking the same
  per-session streams with no model at all.

Writes JSON and a PNG plot.

    python tests/benchmarks/bench_sessions.py --model-repository model_repository --model charlm
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.engine.sessions.model import ChunkInput, StreamingModel
from seqserve.server.repository.repository import ModelRepository
from seqserve.server.runtime.gc_pause import freeze_loaded_objects


def _chunks(model: StreamingModel, count: int = 4096) -> list[ChunkInput]:
    """One-step chunks made up front: the driver shares the process (and the GIL) with
    the engine, so it should spend as little as it can per step."""
    spec = model.config.input
    if spec.type == "tokens":
        ids = np.random.default_rng(0).integers(1, spec.vocab_size, count).tolist()
        return [ChunkInput(tokens=[t]) for t in ids]
    return [ChunkInput(values=list(spec.mean) if spec.mean else [0.0] * spec.features)] * count


def _summary(latencies: list[float], steps: int, seconds: float) -> dict[str, float]:
    lat = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {"steps_per_s": round(steps / seconds, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 3),
            "p99_ms": round(float(np.percentile(lat, 99)), 3), "steps": steps}


async def _drive(model: StreamingModel, sessions: int, rate: float | None, seconds: float) -> dict:
    """rate=None: closed loop (saturation); else each session paces itself at `rate`."""
    chunks = _chunks(model)
    ids = [model.open(f"bench-{i}").session_id for i in range(sessions)]
    ticks_before = model.scheduler.ticks
    sent = 0

    async def step(i: int) -> None:
        nonlocal sent
        sent += 1
        await model.predict(ids[i], chunks[sent % len(chunks)])

    result = await _paced(sessions, rate, seconds, step)
    ticks = model.scheduler.ticks - ticks_before
    for sid in ids:
        model.close(sid)
    result["mean_rows_per_run"] = round(result["steps"] / max(ticks, 1), 1)
    return result


def _load(repository: Path, name: str, policy: str) -> StreamingModel:
    model = StreamingModel(ModelRepository(repository).resolve(name), policy=policy)
    model.start()
    freeze_loaded_objects()  # as the server does after each load
    return model


def _memory_per_session(model: StreamingModel, count: int) -> dict[str, float]:
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ids = [model.open(f"mem-{i}").session_id for i in range(count)]
    table_bytes = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    for sid in ids:
        model.close(sid)
    return {"state_bytes": model.scheduler.pool.row_bytes,
            "table_bytes": round(table_bytes, 1),
            "total_bytes": round(model.scheduler.pool.row_bytes + table_bytes, 1)}


def run_engine(repository: Path, name: str, counts: list[int], rate: float,
               seconds: float) -> dict:
    report: dict = {"fixed_rate": {}, "saturation": {}}
    model = _load(repository, name, "continuous")
    report["memory_per_session"] = _memory_per_session(model, 1000)
    for n in counts:
        report["fixed_rate"][str(n)] = asyncio.run(_drive(model, n, rate, seconds))
        print(f"engine  {n:5d} sessions x {rate:g} steps/s: {report['fixed_rate'][str(n)]}",
              flush=True)
    sat_sessions = max(counts)
    report["saturation"]["continuous"] = asyncio.run(_drive(model, sat_sessions, None, seconds))
    model.stop()
    model = _load(repository, name, "sequential")
    report["saturation"]["sequential"] = asyncio.run(_drive(model, sat_sessions, None, seconds))
    model.stop()
    on, off = report["saturation"]["continuous"], report["saturation"]["sequential"]
    report["saturation"]["batched_over_unbatched"] = round(
        on["steps_per_s"] / max(off["steps_per_s"], 1e-9), 2)
    print(f"saturation ({sat_sessions} sessions, closed loop): batched {on}, unbatched {off}, "
          f"ratio {report['saturation']['batched_over_unbatched']}x", flush=True)
    return report


async def _paced(
    sessions: int, rate: float | None, seconds: float,
    step: Callable[[int], Awaitable[object]],
) -> dict:
    """Session i calls step(i) every 1/rate s (phases spread evenly) for `seconds`;
    rate=None: each calls again as soon as its last step returned (closed loop)."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def one(i: int) -> None:
        period = 0.0 if rate is None else 1.0 / rate
        next_at = time.perf_counter() + (i / sessions) * period
        while True:
            if period:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += period
            if time.perf_counter() >= stop_at:
                return
            started = time.perf_counter()
            await step(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*[one(i) for i in range(sessions)])
    return _summary(latencies, len(latencies), time.perf_counter() - started)


def _wire_chunk(name: str) -> pb.Chunk:
    return pb.Chunk(values=pb.FloatValues(values=[340.0])) if name == "co2" else pb.Chunk(text="e")


async def _grpc_streams(address: str, name: str, sessions: int, rate: float,
                        seconds: float) -> dict:
    """One Predict stream per session, one message per step."""
    from seqserve.client.session_client import open_message

    message = pb.PredictRequest(chunk=_wire_chunk(name))
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.SeqServeStub(channel)
        calls = [stub.Predict() for _ in range(sessions)]
        for call in calls:
            await call.write(open_message(name))
            await call.read()

        return await _stream_per_session(calls, message, rate, seconds)


async def _stream_per_session(calls: list, message: object, rate: float, seconds: float) -> dict:
    """Each stream sends `message` and waits for its reply, paced; then ends."""

    async def step(i: int) -> None:
        await calls[i].write(message)
        await calls[i].read()

    result = await _paced(len(calls), rate, seconds, step)
    for call in calls:
        await call.done_writing()
        await call.read()  # EOF: the stream is over before the channel closes
    return result


async def _grpc_mux(address: str, name: str, sessions: int, rate: float, seconds: float,
                    window: float) -> dict:
    """Every session over one PredictMany stream (SessionMux: steps within `window`
    share a message), as a gateway serving many users would send them."""
    from seqserve.client.session_mux import SessionMux

    chunk = _wire_chunk(name)
    async with (grpc.aio.insecure_channel(address) as channel,
                SessionMux(channel, window=window) as mux):
        ids = [(await mux.open(name)).session_id for _ in range(sessions)]
        before = mux.requests_sent
        result = await _paced(sessions, rate, seconds,
                              lambda i: mux.predict(name, ids[i], chunk))
        result["steps_per_message"] = round(
            result["steps"] / max(mux.requests_sent - before, 1), 1)
        for sid in ids:
            await mux.close_session(name, sid)
    return result


async def _grpc_echo(address: str, sessions: int, rate: float, seconds: float) -> dict:
    from tests.benchmarks.grpc_echo import METHOD

    async with grpc.aio.insecure_channel(address) as channel:
        method = channel.stream_stream(METHOD, request_serializer=bytes,
                                       response_deserializer=bytes)
        calls = [method() for _ in range(sessions)]
        payload = _wire_chunk("charlm").SerializeToString()
        return await _stream_per_session(calls, payload, rate, seconds)


@contextlib.contextmanager
def _echo_server() -> Iterator[str]:
    from tests.support.server_process import free_port

    port = free_port()
    script = Path(__file__).with_name("grpc_echo.py")
    process = subprocess.Popen([sys.executable, str(script), "serve", str(port)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and "ready" in process.stdout.readline()
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def run_grpc(repository: Path, name: str, counts: list[int], rate: float,
             seconds: float, window: float) -> dict:
    """The real server as a subprocess; the load generator is this process (on the
    same cores: its cost is part of every figure here)."""
    from tests.support.server_process import running_server

    report: dict = {"streams": {}, "mux": {}, "echo_floor": {}}
    with running_server(repository, extra_args=["--metrics-port", "-1"]) as server:
        for n in counts:
            report["streams"][str(n)] = asyncio.run(
                _grpc_streams(server.address, name, n, rate, seconds))
            print(f"grpc Predict streams  {n:5d} x {rate:g}/s: {report['streams'][str(n)]}",
                  flush=True)
            report["mux"][str(n)] = asyncio.run(
                _grpc_mux(server.address, name, n, rate, seconds, window))
            print(f"grpc PredictMany mux  {n:5d} x {rate:g}/s: {report['mux'][str(n)]}",
                  flush=True)
    with _echo_server() as address:
        for n in counts:
            report["echo_floor"][str(n)] = asyncio.run(_grpc_echo(address, n, rate, seconds))
            print(f"bare grpc.aio echo    {n:5d} x {rate:g}/s: {report['echo_floor'][str(n)]}",
                  flush=True)
    for n in map(str, counts):
        streams, echo = report["streams"][n], report["echo_floor"][n]
        streams["share_of_echo_throughput"] = round(
            streams["steps_per_s"] / max(echo["steps_per_s"], 1e-9), 2)
    return report


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    grpc_rows = report.get("grpc", {})
    series = (("engine", report["engine"]["fixed_rate"]),
              ("Predict streams", grpc_rows.get("streams", {})),
              ("PredictMany", grpc_rows.get("mux", {})),
              ("bare gRPC echo", grpc_rows.get("echo_floor", {})))
    for (label, rows), color in zip(series, ("C0", "C1", "C2", "C7"), strict=True):
        if not rows:
            continue
        n = [int(k) for k in rows]
        axes[0].plot(n, [rows[k]["steps_per_s"] for k in rows], "o-", color=color, label=label)
        axes[1].plot(n, [rows[k]["p99_ms"] for k in rows], "o-", color=color,
                     label=f"{label} p99")
        axes[1].plot(n, [rows[k]["p50_ms"] for k in rows], "x--", color=color,
                     label=f"{label} p50")
    axes[1].axhline(50, color="red", linewidth=0.8, label="p99 target 50 ms")
    axes[0].set(xlabel="sessions", ylabel="steps/s", title="throughput at fixed per-session rate")
    axes[1].set(xlabel="sessions", ylabel="ms", title="per-step latency", yscale="log")
    for ax in axes:
        ax.legend()
    sat = report["engine"]["saturation"]
    fig.suptitle(f"saturation: batched {sat['continuous']['steps_per_s']:.0f} steps/s vs "
                 f"unbatched {sat['sequential']['steps_per_s']:.0f} "
                 f"({sat['batched_over_unbatched']}x)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model-repository", type=Path, default=Path("model_repository"))
    p.add_argument("--model", default="charlm")
    p.add_argument("--sessions", default="100,1000,2000")
    p.add_argument("--grpc-sessions", default="100,1000", help="'' skips the gRPC driver")
    p.add_argument("--rate", type=float, default=10.0, help="steps/s per session")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--window", type=float, default=0.002,
                   help="SessionMux batching window (s) for the PredictMany driver")
    p.add_argument("--out", type=Path, default=Path("bench_sessions"))
    args = p.parse_args(argv)
    counts = [int(x) for x in args.sessions.split(",")]
    report = {"model": args.model, "rate_per_session": args.rate, "cpus": os.cpu_count()}
    report["engine"] = run_engine(args.model_repository, args.model, counts, args.rate,
                                  args.seconds)
    if args.grpc_sessions:
        grpc_counts = [int(x) for x in args.grpc_sessions.split(",")]
        report["grpc"] = run_grpc(args.model_repository, args.model, grpc_counts, args.rate,
                                  args.seconds, args.window)
    report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(report, indent=1))
    plot(report, Path(f"{args.out}.png"))
    print(f"wrote {args.out}.json and {args.out}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
