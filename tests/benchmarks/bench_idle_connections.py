"""Server RSS under many idle connections and silent Predict streams (a script, not a test).

    python tests/benchmarks/bench_idle_connections.py --model-repository REPO --model co2 \
        --connections 2000 --streams 1000

Starts the real server, records its RSS (VmRSS) at rest, after N idle HTTP/2
connections (each made one call, then nothing), and after M Predict streams
that open a session and then send nothing; prints the figures and the cost
per connection / per stream. With --stream-idle-timeout the silent streams
are ended by the server and RSS is read again after the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import running_server


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def open_idle(address: str, count: int) -> list[grpc.aio.Channel]:
    channels = []
    for index in range(count):
        # A local subchannel pool: each channel gets its own TCP connection.
        channel = grpc.aio.insecure_channel(address, options=[
            ("grpc.use_local_subchannel_pool", 1), ("grpc.channel_id", index)])
        await pb_grpc.SeqServeStub(channel).ListModels(pb.ListModelsRequest(), timeout=60)
        channels.append(channel)
    return channels


async def open_silent(channel: grpc.aio.Channel, model: str, count: int) -> list[object]:
    stub = pb_grpc.SeqServeStub(channel)
    calls = []
    for _ in range(count):
        call = stub.Predict(timeout=600)
        await call.write(pb.PredictRequest(open=pb.OpenSessionRequest(model=model)))
        await call.read()
        calls.append(call)
    return calls


async def measure(args: argparse.Namespace, pid: int, address: str) -> None:
    base = rss_mib(pid)
    print(f"at rest: {base:.1f} MiB")
    started = time.monotonic()
    idle = await open_idle(address, args.connections)
    await asyncio.sleep(2)
    with_idle = rss_mib(pid)
    print(f"{args.connections} idle connections: {with_idle:.1f} MiB "
          f"(+{with_idle - base:.1f}; {(with_idle - base) * 1024 / max(1, args.connections):.1f}"
          f" KiB each), opened in {time.monotonic() - started:.1f} s")
    stream_channels = [grpc.aio.insecure_channel(address, options=[
        ("grpc.use_local_subchannel_pool", 1), ("grpc.channel_id", -1 - i)])
        for i in range(max(1, args.streams // 100))]
    per = args.streams // len(stream_channels)
    calls = []
    for channel in stream_channels:
        calls += await open_silent(channel, args.model, per)
    await asyncio.sleep(2)
    with_streams = rss_mib(pid)
    print(f"+ {len(calls)} silent Predict streams (sessions open): {with_streams:.1f} MiB "
          f"(+{with_streams - with_idle:.1f}; "
          f"{(with_streams - with_idle) * 1024 / max(1, len(calls)):.1f} KiB each)")
    if args.stream_idle_timeout:
        await asyncio.sleep(args.stream_idle_timeout + 3)
        codes = {}
        for call in calls:
            code = await call.code()
            codes[code.name] = codes.get(code.name, 0) + 1
        print(f"after --stream-idle-timeout {args.stream_idle_timeout}: {rss_mib(pid):.1f} MiB,"
              f" stream statuses {codes}")
    for call in calls:
        call.cancel()
    for channel in [*idle, *stream_channels]:
        await channel.close()
    await asyncio.sleep(2)
    print(f"all closed: {rss_mib(pid):.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-repository", type=Path, required=True)
    parser.add_argument("--model", default="co2", help="a streaming model")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--stream-idle-timeout", type=float, default=0.0)
    args = parser.parse_args()
    extra = ["--max-streams-per-connection", "256"]
    if args.stream_idle_timeout:
        extra += ["--stream-idle-timeout", str(args.stream_idle_timeout)]
    with running_server(args.model_repository, extra_args=extra) as server:
        asyncio.run(measure(args, server.process.pid, server.address))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
