"""Server reflection, so grpcurl-like tools can list and call the services."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from grpc_reflection.v1alpha import reflection


def enable_reflection(server: grpc.aio.Server, services: Sequence[str]) -> None:
    """Expose `services` plus the reflection service itself."""
    reflection.enable_server_reflection([*services, reflection.SERVICE_NAME], server)
