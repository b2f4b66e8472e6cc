"""KServe v2 fixtures: the server with a model of every kind
(tests/support/kind_repository.py, shared with the contract suite), called with
the real, unmodified tritonclient.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kind_repository import (  # noqa: F401 - the names these tests use
    CAPTIONER,
    FORECASTER,
    SECOND_TRANSLATOR,
    TAGGER,
    TRANSLATOR,
)
from tests.support.server_process import ServerProcess


@pytest.fixture()
def triton(kserve_server: ServerProcess) -> Iterator[object]:
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(kserve_server.address)
    yield client
    client.close()
