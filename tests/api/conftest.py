"""Module-scoped server + channel for the api tests (see grpc_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.api.api_fakes import default_manager
from tests.api.grpc_harness import ServerThread


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    running = ServerThread(default_manager())
    yield running
    running.close()


@pytest.fixture(scope="module")
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.target) as chan:
        yield chan
