"""Sessions belong to whoever opened them. On a default server (no flag: session
tokens required), without the session_token the open returned, another client can
neither read, advance, close nor reopen the session, over the unary calls,
PredictMany or a Predict stream. `--session-tokens off` is the legacy mode for
clients that predate tokens: anyone who knows the id may touch the session.

Every call here uses a raw stub: it sends exactly the token the test gives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api.caller import caller_namespace
from tests.integration.grpc_helpers import raw_stub
from tests.sessions.session_helpers import OpenStream, chunk_message
from tests.support.server_process import ServerProcess, running_server

DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture(scope="module")
def isolated_server(streaming_repository: Path) -> Iterator[ServerProcess]:
    with running_server(streaming_repository) as p:  # the default: tokens required
        yield p


def code_of(call) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def chunk() -> pb.Chunk:
    return chunk_message(values=[330.0, 331.0]).chunk


def test_another_client_cannot_touch_a_session(isolated_server: ServerProcess) -> None:
    channel, client = raw_stub(isolated_server.address)
    with channel:
        mine = client.OpenSession(pb.OpenSessionRequest(model="co2", session_id="owned-1"))
        token = mine.session_token
        assert len(token) >= 32
        ref = {"model": "co2", "session_id": "owned-1"}
        # The owner, with its token, does everything.
        step = client.PredictStep(pb.PredictStepRequest(**ref, chunk=chunk(), session_token=token))
        assert step.position == 2
        for bad in ("", "x" * 32, token[:-1] + ("A" if token[-1] != "A" else "B")):
            assert code_of(lambda t=bad: client.GetSession(
                pb.SessionRef(**ref, session_token=t))) == DENIED
            assert code_of(lambda t=bad: client.PredictStep(
                pb.PredictStepRequest(**ref, chunk=chunk(), session_token=t))) == DENIED
            assert code_of(lambda t=bad: client.CloseSession(
                pb.SessionRef(**ref, session_token=t))) == DENIED
            assert code_of(lambda t=bad: client.OpenSession(
                pb.OpenSessionRequest(**ref, session_token=t))) == DENIED
        many = client.PredictMany(iter([pb.PredictManyRequest(request_id=1, steps=[
            pb.PredictStepRequest(**ref, chunk=chunk()),
            pb.PredictStepRequest(**ref, chunk=chunk(), session_token=token),
        ])]))
        (response,) = list(many)
        assert response.results[0].error.code == DENIED.value[0]
        assert response.results[1].response.position == 4
        # Nothing the others tried advanced it.
        info = client.GetSession(pb.SessionRef(**ref, session_token=token))
        assert info.position == 4
        again = client.OpenSession(pb.OpenSessionRequest(**ref, session_token=token))
        assert again.session_token == token
        client.CloseSession(pb.SessionRef(**ref, session_token=token))


def test_a_stream_session_is_reopened_only_with_its_token(isolated_server) -> None:
    channel, client = raw_stub(isolated_server.address)
    with channel:
        stream = OpenStream(client, "co2", "owned-stream", keep=True, keep_tokens=False)
        token = stream.recv().session.session_token
        assert token
        stream.step(chunk_message(values=[330.0]))
        stream.finish()
        other = OpenStream(client, "co2", "owned-stream", keep_tokens=False)
        with pytest.raises(grpc.RpcError) as raised:
            other.recv()
        assert raised.value.code() == DENIED
        ref = pb.SessionRef(model="co2", session_id="owned-stream", session_token=token)
        assert client.GetSession(ref).position == 1
        mine = OpenStream(client, "co2", "owned-stream", session_token=token, keep=True,
                          keep_tokens=False)
        assert mine.recv().session.position == 1
        mine.finish()
        client.CloseSession(ref)


def test_a_new_sessions_token_is_issued_by_the_server_never_the_clients(isolated_server) -> None:
    """A token sent on an open that creates the session is not taken as its token (a
    client's weak or reused token would make its session guessable): the server issues
    one, and only that one opens it; a reopen with it echoes it."""
    channel, client = raw_stub(isolated_server.address)
    chosen = "0" * 48
    with channel:
        opened = client.OpenSession(pb.OpenSessionRequest(
            model="co2", session_id="chose-own-token", session_token=chosen))
        issued = opened.session_token
        assert len(issued) == 48 and issued != chosen
        ref = {"model": "co2", "session_id": "chose-own-token"}
        assert code_of(lambda: client.GetSession(
            pb.SessionRef(**ref, session_token=chosen))) == DENIED
        again = client.OpenSession(pb.OpenSessionRequest(**ref, session_token=issued))
        assert again.session_token == issued
        # The same over a Predict stream's open.
        stream = OpenStream(client, "co2", "chose-own-stream", keep=True, keep_tokens=False,
                            session_token=chosen)
        stream_token = stream.recv().session.session_token
        stream.finish()
        assert stream_token not in ("", chosen)
        assert code_of(lambda: client.GetSession(pb.SessionRef(
            model="co2", session_id="chose-own-stream", session_token=chosen))) == DENIED
        for sid, token in (("chose-own-token", issued), ("chose-own-stream", stream_token)):
            client.CloseSession(pb.SessionRef(model="co2", session_id=sid, session_token=token))


def test_legacy_mode_off_lets_anyone_with_the_id_touch_a_session(
    streaming_repository: Path,
) -> None:
    """`--session-tokens off`, the opt-out for clients that predate tokens: no token
    is issued and an anonymous caller reaches any session by its id alone."""
    with running_server(streaming_repository, extra_args=["--session-tokens", "off"]) as server:
        channel, client = raw_stub(server.address)
        with channel:
            opened = client.OpenSession(pb.OpenSessionRequest(model="co2", session_id="open-1"))
            assert opened.session_token == ""
            ref = {"model": "co2", "session_id": "open-1"}
            step = client.PredictStep(pb.PredictStepRequest(**ref, chunk=chunk()))
            assert step.position == 2
            assert client.GetSession(pb.SessionRef(**ref)).position == 2
            client.CloseSession(pb.SessionRef(**ref))


class _Context:
    def __init__(self, peer: str) -> None:
        self._peer = peer

    def peer(self) -> str:
        return self._peer

    def auth_context(self) -> dict:
        return {}


def test_kserve_sequence_ids_live_in_the_callers_namespace() -> None:
    assert caller_namespace(_Context("ipv4:10.0.0.1:5000")) == "peer:ipv4:10.0.0.1"
    assert caller_namespace(_Context("ipv4:10.0.0.1:6000")) == "peer:ipv4:10.0.0.1"
    assert caller_namespace(_Context("ipv4:10.0.0.2:5000")) != "peer:ipv4:10.0.0.1"
