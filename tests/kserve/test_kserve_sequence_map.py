"""The KServe sequence map forgets sequences whose session the engine ended (idle
timeout): it does not grow with every sequence ever started."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from seqserve.server.api.kserve import kind_streaming
from seqserve.server.api.kserve.kind_streaming import StreamingAdapter
from seqserve.server.api.kserve.kinds import InferCall
from seqserve.server.api.kserve.params import Parameters
from seqserve.server.api.kserve.tensors import Tensor
from seqserve.server.errors import InvalidArgumentError, NotFoundError


class FakeStreamingHandle:
    """Sessions the test can end as the engine's idle timeout would."""

    def __init__(self) -> None:
        self.info = SimpleNamespace(name="co2")
        self.live: set[str] = set()
        self._ids = (f"s{i}" for i in itertools.count())

    def open(self, session_id):
        sid = next(self._ids)
        self.live.add(sid)
        return SimpleNamespace(session_id=sid)

    def session(self, session_id):
        if session_id not in self.live:
            raise NotFoundError(f"session '{session_id}' not found")
        return SimpleNamespace(session_id=session_id)

    def close(self, session_id, reason="closed"):
        self.live.discard(session_id)


def _call(sequence: str, *, start: bool) -> InferCall:
    tensor = Tensor("INPUT", "FP32", np.zeros((1, 1), np.float32))
    return InferCall({"INPUT": tensor}, Parameters({}), None, sequence_key=sequence,
                     sequence_start=start)


def test_sequences_of_idle_evicted_sessions_are_forgotten(monkeypatch) -> None:
    monkeypatch.setattr(kind_streaming, "SWEEP_SECONDS", 0.0)
    adapter, handle = StreamingAdapter(), FakeStreamingHandle()
    for n in range(100):
        adapter._session(handle, _call(str(n), start=True))
    assert adapter.sequences() == 100
    handle.live.clear()  # the idle timeout ended every session
    adapter._session(handle, _call("new", start=True))
    assert adapter.sequences() == 1


def test_a_request_for_an_evicted_sequence_says_to_start_again() -> None:
    adapter, handle = StreamingAdapter(), FakeStreamingHandle()
    adapter._session(handle, _call("7", start=True))
    handle.live.clear()
    with pytest.raises(InvalidArgumentError, match="START"):
        adapter._session(handle, _call("7", start=False))
    assert adapter.sequences() == 0
