"""With bearer tokens, a session belongs to the token that opened it: another
token (another client) is refused, on the unary calls and over PredictMany, even
on the same connection and without any session_token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import ServerProcess, running_server


@pytest.fixture(scope="module")
def token_server(kserve_repository: Path, tokens) -> Iterator[ServerProcess]:
    with running_server(kserve_repository, extra_args=["--tokens-file", str(tokens.file)]) as p:
        yield p


def _auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def _chunk() -> pb.Chunk:
    return pb.Chunk(values=pb.FloatValues(values=[330.0, 331.0]))


def test_a_session_belongs_to_the_token_that_opened_it(token_server: ServerProcess, tokens) -> None:
    mine, theirs = _auth(tokens.infer), _auth(tokens.other)
    with grpc.insecure_channel(token_server.address) as channel:
        client = pb_grpc.SeqServeStub(channel)
        opened = client.OpenSession(
            pb.OpenSessionRequest(model="co2", session_id="token-owned"), metadata=mine,
            timeout=30,
        )
        assert opened.session_token == ""  # the credential owns it: no token to carry
        ref = pb.SessionRef(model="co2", session_id="token-owned")
        step = pb.PredictStepRequest(model="co2", session_id="token-owned", chunk=_chunk())
        assert client.PredictStep(step, metadata=mine, timeout=30).position == 2

        for call in (lambda: client.GetSession(ref, metadata=theirs, timeout=30),
                     lambda: client.PredictStep(step, metadata=theirs, timeout=30),
                     lambda: client.CloseSession(ref, metadata=theirs, timeout=30)):
            with pytest.raises(grpc.RpcError) as refused:
                call()
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

        many = list(client.PredictMany(
            iter([pb.PredictManyRequest(request_id=1, steps=[step])]), metadata=theirs,
            timeout=30,
        ))
        assert many[0].results[0].error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]

        # The owner's session was not touched by any of that.
        assert client.GetSession(ref, metadata=mine, timeout=30).position == 2
        client.CloseSession(ref, metadata=mine, timeout=30)
