"""The session API of the real server: Predict stream, unary calls, keep/close, metrics."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import metric, stub
from tests.sessions.session_helpers import OpenStream, chunk_message, wait_until

SERIES = [315.7, 317.5, 317.6, 317.5, 316.4, 316.0, 315.3, 313.9, 313.5, 313.6]


@pytest.fixture()
def client(streaming_server):
    channel, s = stub(streaming_server.address)
    yield s
    channel.close()


def _forecasts(responses: list[pb.PredictResponse]) -> list[list[float]]:
    return [list(step.forecast) for r in responses for step in r.steps]


def test_predict_stream_chunks_and_positions(client):
    stream = OpenStream(client, "co2", "stream-a")
    opened = stream.recv()
    assert opened.session.session_id == "stream-a" and opened.position == 0
    first = stream.step(chunk_message(values=SERIES[:3]))
    assert (first.first_step, first.position, len(first.steps)) == (0, 3, 3)
    assert len(first.steps[0].forecast) == 4
    assert 300 < first.steps[-1].forecast[0] < 330  # ppm, denormalised
    second = stream.step(chunk_message(values=SERIES[3:10]))
    assert (second.first_step, second.position) == (3, 10)
    assert stream.finish() == []
    # Closing the stream closed the session (keep was not set).
    with pytest.raises(grpc.RpcError) as err:
        client.GetSession(pb.SessionRef(model="co2", session_id="stream-a"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_chunking_does_not_change_outputs(client):
    whole = OpenStream(client, "co2")
    whole.recv()
    one = _forecasts([whole.step(chunk_message(values=SERIES))])
    whole.finish()
    pieces = OpenStream(client, "co2")
    pieces.recv()
    parts = [pieces.step(chunk_message(values=SERIES[a:b])) for a, b in [(0, 1), (1, 5), (5, 10)]]
    pieces.finish()
    assert np.abs(np.array(_forecasts(parts)) - np.array(one)).max() <= 1e-9


def test_unary_session_calls(client):
    opened = client.OpenSession(pb.OpenSessionRequest(model="co2"))
    sid = opened.session_id
    assert len(sid) == 32 and opened.position == 0 and opened.state_bytes > 0
    reply = client.PredictStep(pb.PredictStepRequest(
        model="co2", session_id=sid, chunk=chunk_message(values=SERIES[:4]).chunk))
    assert (reply.first_step, reply.position, len(reply.steps)) == (0, 4, 4)
    info = client.GetSession(pb.SessionRef(model="co2", session_id=sid))
    assert info.position == 4 and info.model == "co2" and info.version == 1
    closed = client.CloseSession(pb.SessionRef(model="co2", session_id=sid))
    assert closed.position == 4
    with pytest.raises(grpc.RpcError) as err:
        client.PredictStep(pb.PredictStepRequest(
            model="co2", session_id=sid, chunk=chunk_message(values=[1.0]).chunk))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_charlm_candidates_and_surprise(client):
    stream = OpenStream(client, "charlm", "typing")
    stream.recv()
    reply = stream.step(chunk_message(text="Choose ", top_k=3))
    assert len(reply.steps) == 7
    for step in reply.steps:
        assert len(step.candidates) == 3
        probs = [c.probability for c in step.candidates]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert step.HasField("surprise_bits") and step.surprise_bits >= 0
    stream.finish()


def test_keep_survives_the_stream_and_resumes(client):
    stream = OpenStream(client, "co2", "kept", keep=True)
    stream.recv()
    stream.step(chunk_message(values=SERIES[:5]))
    stream.finish()
    assert client.GetSession(pb.SessionRef(model="co2", session_id="kept")).position == 5
    again = OpenStream(client, "co2", "kept")
    assert again.recv().position == 5
    reply = again.step(chunk_message(values=SERIES[5:7]))
    assert (reply.first_step, reply.position) == (5, 7)
    again.finish()


def test_session_metrics(client, streaming_server):
    stream = OpenStream(client, "co2")
    stream.recv()
    stream.step(chunk_message(values=SERIES[:2]))
    url = streaming_server.metrics_url
    assert metric(url, "seqserve_live_sessions", model="co2") >= 1
    assert metric(url, "seqserve_session_state_bytes", model="co2") > 0
    assert metric(url, "seqserve_session_tick_rows_count", model="co2") >= 1
    stream.finish()
    assert wait_until(lambda: metric(url, "seqserve_sessions_ended_total", model="co2") >= 1)


def test_list_models_reports_streaming_kind(client):
    models = {m.name: m for m in client.ListModels(pb.ListModelsRequest()).models}
    assert models["co2"].kind == pb.MODEL_KIND_STREAMING
