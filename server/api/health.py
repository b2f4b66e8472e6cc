"""grpc.health.v1 for the server: NOT_SERVING until models are loaded, SERVING
while they are, NOT_SERVING for good once draining starts.

The overall status ("") and each service name are reported, so a load
balancer can probe either.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import SERVICE_NAME as HEALTH_SERVICE_NAME
from grpc_health.v1.health import aio as health_aio

__all__ = ["HEALTH_SERVICE_NAME", "HealthReporter"]

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthReporter:
    """Owns the asyncio HealthServicer; its methods must run on the server's loop."""

    def __init__(self, services: Sequence[str]) -> None:
        self.servicer = health_aio.HealthServicer()
        self._names = ["", *services]
        self.serving = False
        """What the overall status says now; read from other threads (/ready)."""
        self._draining = False

    def add_to_server(self, server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)

    async def set_serving(self, serving: bool) -> None:
        """Report every name as SERVING or NOT_SERVING (ignored once draining)."""
        status = _SERVING if serving else _NOT_SERVING
        self.serving = serving and not self._draining
        for name in self._names:
            await self.servicer.set(name, status)

    async def drain(self) -> None:
        """NOT_SERVING for every name, permanently: clients stop sending new work."""
        self._draining, self.serving = True, False
        await self.servicer.enter_graceful_shutdown()
