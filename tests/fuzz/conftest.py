"""The fuzz suite runs against the KServe suite's server (a model of every kind)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.fuzz.calls import Caller, format_histogram, good_answers
from tests.support.kind_repository import (  # noqa: F401 - fixtures, used by name
    kserve_repository,
    kserve_server,
    tiny_captioner_run,
)
from tests.support.server_process import ServerProcess


@pytest.fixture(scope="module")
def fuzz_caller(kserve_server: ServerProcess) -> Iterator[Caller]:  # noqa: F811
    """One channel for the whole run; afterwards the same good requests get the same answers."""
    with grpc.insecure_channel(kserve_server.address) as channel:
        before = good_answers(channel)
        caller = Caller(channel)
        yield caller
        print("\nfuzz status histogram:\n" + format_histogram(caller.histogram))
        for key, message in sorted(caller.examples.items()):
            print(f"  e.g. {key}: {message}")
        assert kserve_server.alive(), kserve_server.log()[-4000:]
    with grpc.insecure_channel(kserve_server.address) as fresh:
        assert good_answers(fresh) == before
