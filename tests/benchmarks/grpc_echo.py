"""The floor under any Predict-stream figure: a grpc.aio server that does nothing but
echo each message of a bidirectional stream, driven like the sessions benchmark
(N streams, one message per step at a fixed rate). What it cannot sustain on a
machine, no per-session stream server in Python can.

    python tests/benchmarks/grpc_echo.py serve PORT     # the server (the benchmark starts it)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import grpc

METHOD = "/bench.Echo/Echo"


def _same(data: bytes) -> bytes:
    return data


async def serve(port: int) -> None:
    async def echo(requests: AsyncIterator[bytes], context: object) -> AsyncIterator[bytes]:
        async for message in requests:
            yield message

    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bench.Echo", {
        "Echo": grpc.stream_stream_rpc_method_handler(
            echo, request_deserializer=_same, response_serializer=_same),
    })
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("echo ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        raise SystemExit(__doc__)
    asyncio.run(serve(int(sys.argv[2])))
