"""Every bad session request gets its status code from the real server, and the
server keeps serving the session afterwards where that makes sense."""

from __future__ import annotations

import time

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import stub
from tests.sessions.conftest import IDLE_TIMEOUT, MAX_CHUNK
from tests.sessions.session_helpers import OpenStream, chunk_message

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture()
def client(streaming_server):
    channel, s = stub(streaming_server.address)
    yield s
    channel.close()


def _step(client, model: str, sid: str, message: pb.PredictRequest) -> pb.PredictResponse:
    return client.PredictStep(pb.PredictStepRequest(
        model=model, session_id=sid, chunk=message.chunk, top_k=message.top_k))


def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def _session(client, model: str) -> str:
    return client.OpenSession(pb.OpenSessionRequest(model=model)).session_id


@pytest.mark.parametrize(
    ("model", "message", "fragment"),
    [
        ("wide", chunk_message(values=[1.0, 2.0, 3.0, 4.0]), "whole number of steps"),
        ("co2", chunk_message(tokens=[1, 2]), "takes float values"),
        ("charlm", chunk_message(values=[1.0]), "takes tokens or text"),
        ("co2", chunk_message(values=[315.0, float("nan")]), "NaN or infinite"),
        ("co2", chunk_message(values=[float("inf")]), "NaN or infinite"),
        ("charlm", chunk_message(tokens=[3, 100_000]), "outside the vocabulary"),
        ("charlm", chunk_message(tokens=[-1]), "outside the vocabulary"),
        ("co2", chunk_message(values=[315.0] * (MAX_CHUNK + 1)), "max_chunk_steps"),
        ("charlm", chunk_message(text="x" * (MAX_CHUNK + 1)), "max_chunk_steps"),
        ("co2", chunk_message(values=[]), "empty chunk"),
        ("charlm", chunk_message(text=""), "empty chunk"),
        ("co2", pb.PredictRequest(chunk=pb.Chunk()), "empty chunk"),
        ("charlm", chunk_message(text="ab", top_k=99), "top_k"),
    ],
)
def test_bad_chunks_are_invalid_argument(client, model, message, fragment):
    sid = _session(client, model)
    code, details = _code(lambda: _step(client, model, sid, message))
    assert code == INVALID and fragment in details
    # The session is untouched and still serves a good chunk at position 0.
    good = chunk_message(values=[0.5] * 3) if model == "wide" else (
        chunk_message(text="ab") if model == "charlm" else chunk_message(values=[315.0]))
    assert _step(client, model, sid, good).first_step == 0
    client.CloseSession(pb.SessionRef(model=model, session_id=sid))


def test_bad_chunk_on_a_stream_ends_it_with_invalid_argument(client):
    stream = OpenStream(client, "co2", "bad-stream")
    stream.recv()
    stream.send(chunk_message(values=[float("nan")]))
    with pytest.raises(grpc.RpcError) as err:
        stream.recv()
    assert err.value.code() == INVALID


@pytest.mark.parametrize("sid", ["", "has space", "x" * 129, "-leading-dash"])
def test_bad_session_ids(client, sid):
    if not sid:
        code, _ = _code(lambda: _step(client, "co2", sid, chunk_message(values=[1.0])))
    else:
        code, _ = _code(lambda: client.OpenSession(
            pb.OpenSessionRequest(model="co2", session_id=sid)))
    assert code == INVALID


def test_unknown_session_is_not_found(client):
    for call in (
        lambda: _step(client, "co2", "never-opened", chunk_message(values=[1.0])),
        lambda: client.GetSession(pb.SessionRef(model="co2", session_id="never-opened")),
        lambda: client.CloseSession(pb.SessionRef(model="co2", session_id="never-opened")),
    ):
        assert _code(call)[0] == grpc.StatusCode.NOT_FOUND


def test_unknown_model_and_wrong_kind(client):
    code, _ = _code(lambda: client.OpenSession(pb.OpenSessionRequest(model="nope")))
    assert code == grpc.StatusCode.NOT_FOUND


def test_first_message_must_open(client):
    responses = client.Predict(iter([chunk_message(values=[1.0])]))
    with pytest.raises(grpc.RpcError) as err:
        list(responses)
    assert err.value.code() == INVALID


def test_second_stream_on_a_session_is_failed_precondition(client):
    first = OpenStream(client, "co2", "owned")
    first.recv()
    second = OpenStream(client, "co2", "owned")
    with pytest.raises(grpc.RpcError) as err:
        second.recv()
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # The first stream is unaffected.
    assert first.step(chunk_message(values=[315.0])).position == 1
    first.finish()


def test_idle_session_expires(client):
    sid = _session(client, "co2")
    _step(client, "co2", sid, chunk_message(values=[315.0, 316.0]))
    time.sleep(IDLE_TIMEOUT + 1.5)
    code, _ = _code(lambda: client.GetSession(pb.SessionRef(model="co2", session_id=sid)))
    assert code == grpc.StatusCode.NOT_FOUND
    # Eviction snapshotted it: opening the id again resumes at its position.
    again = client.OpenSession(pb.OpenSessionRequest(model="co2", session_id=sid))
    assert again.resumed and again.position == 2
