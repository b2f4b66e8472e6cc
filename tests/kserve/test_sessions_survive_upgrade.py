"""A session open on a streaming model survives a reload of that model (the same
state layout): reopening its id on the new copy resumes it where it was, with the
outputs an uninterrupted session gives. A different layout is refused with the
difference (unit-checked on the configs)."""

from __future__ import annotations

import time

import grpc
import pytest
from tritonclient.grpc import service_pb2

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.sessions.upgrade import layout_difference
from seqserve.server.repository.config import load_config
from tests.integration.grpc_helpers import stub
from tests.kserve.conftest import FORECASTER
from tests.kserve.kserve_helpers import raw_stub

CHUNKS = [[0.1, 0.2, 0.3], [0.5, -0.1], [1.0, 0.9, 0.8, 0.7]]


def _step(client, sid: str, values: list[float]) -> pb.PredictResponse:
    return client.PredictStep(pb.PredictStepRequest(
        model=FORECASTER, session_id=sid, chunk=pb.Chunk(values=pb.FloatValues(values=values))),
        timeout=30)


def test_a_session_survives_a_reload_of_its_model(kserve_server) -> None:
    channel, client = stub(kserve_server.address)
    with channel:
        client.OpenSession(pb.OpenSessionRequest(model=FORECASTER, session_id="ref-up"),
                           timeout=30)
        reference = [list(_step(client, "ref-up", c).steps) for c in CHUNKS]
        client.CloseSession(pb.SessionRef(model=FORECASTER, session_id="ref-up"), timeout=30)
        client.OpenSession(pb.OpenSessionRequest(model=FORECASTER, session_id="kept-up"),
                           timeout=30)
        for chunk in CHUNKS[:2]:
            _step(client, "kept-up", chunk)
        with raw_stub(kserve_server.address) as kserve:
            kserve.RepositoryModelLoad(
                service_pb2.RepositoryModelLoadRequest(model_name=FORECASTER), timeout=120)
        time.sleep(2.0)  # the old copy drains and snapshots its sessions
        with pytest.raises(grpc.RpcError) as raised:
            _step(client, "kept-up", CHUNKS[2])
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND  # reopen to resume
        info = client.OpenSession(
            pb.OpenSessionRequest(model=FORECASTER, session_id="kept-up"), timeout=30)
        assert info.resumed and info.position == len(CHUNKS[0]) + len(CHUNKS[1])
        assert list(_step(client, "kept-up", CHUNKS[2]).steps) == reference[2]
        client.CloseSession(pb.SessionRef(model=FORECASTER, session_id="kept-up"), timeout=30)


def test_a_changed_state_layout_is_named(kserve_repository) -> None:
    old = load_config(kserve_repository / FORECASTER / "1")
    pair = old.graph.states[0]
    wider = pair.model_copy(update={"shape": [*pair.shape[:-1], pair.shape[-1] * 2]})
    new = old.model_copy(update={"graph": old.graph.model_copy(
        update={"states": [wider, *old.graph.states[1:]]})})
    assert layout_difference(old, old) is None
    difference = layout_difference(old, new)
    assert difference is not None
    assert str(list(pair.shape)) in difference and str(list(wider.shape)) in difference
