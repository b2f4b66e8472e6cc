"""The client's gRPC deadline as the engine's clock reads it."""

from __future__ import annotations

import time

import grpc


def deadline_of(context: grpc.aio.ServicerContext) -> float | None:
    """The client's deadline as an absolute time.monotonic() value, or None."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining
