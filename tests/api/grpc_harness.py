"""A real grpc.aio server on 127.0.0.1:0, on its own event-loop thread, so tests
call it with ordinary synchronous gRPC stubs (as real clients do)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from seqserve.server.app import GrpcServer
from tests.api.api_fakes import FakeManager

T = TypeVar("T")


class ServerThread:
    def __init__(self, models: FakeManager) -> None:
        self.models = models
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: GrpcServer = self.run(self._start())
        self.target = f"127.0.0.1:{self.server.port}"

    async def _start(self) -> GrpcServer:
        server = GrpcServer(self.models, "127.0.0.1", 0)
        await server.start()
        return server

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.server.stop(0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
