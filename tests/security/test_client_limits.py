"""Per-client limits on the real server: one token at its ceiling is refused with
RESOURCE_EXHAUSTED naming the limit, while another token keeps being served."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api.client_limits import ClientLimits, LimitExceeded, peer_host
from seqserve.server.api.security_settings import ClientLimitSettings
from tests.support.server_process import ServerProcess, running_server

FORECASTER = "co2"


@pytest.fixture(scope="module")
def limited_server(kserve_repository: Path, tokens) -> Iterator[ServerProcess]:
    args = ["--tokens-file", str(tokens.file), "--max-client-rpcs", "1",
            "--max-client-streams", "1", "--max-client-sessions", "2"]
    with running_server(kserve_repository, extra_args=args) as process:
        yield process


def _auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


@pytest.fixture()
def stub(limited_server: ServerProcess) -> Iterator[pb_grpc.SeqServeStub]:
    with grpc.insecure_channel(limited_server.address) as channel:
        yield pb_grpc.SeqServeStub(channel)


class HeldStream:
    """A Predict stream kept open (opened, then silent) until close()."""

    def __init__(self, stub: pb_grpc.SeqServeStub, token: str) -> None:
        self.sent: queue.Queue[pb.PredictRequest | None] = queue.Queue()
        self.sent.put(pb.PredictRequest(open=pb.OpenSessionRequest(model=FORECASTER)))
        self.call = stub.Predict(iter(self.sent.get, None), timeout=60, metadata=_auth(token))

    def first(self) -> pb.PredictResponse:
        return next(self.call)

    def close(self) -> None:
        self.sent.put(None)
        list(self.call)


def test_open_streams_are_limited_per_token(stub, tokens) -> None:
    held = HeldStream(stub, tokens.infer)
    assert held.first().session_id
    try:
        second = HeldStream(stub, tokens.infer)
        with pytest.raises(grpc.RpcError) as caught:
            second.first()
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-client-streams" in (caught.value.details() or "")
        # Another client is not starved by the first one's ceiling.
        other = HeldStream(stub, tokens.other)
        assert other.first().session_id
        other.close()
    finally:
        held.close()
    # The slot is free again once the stream ended.
    again = HeldStream(stub, tokens.infer)
    assert again.first().session_id
    again.close()


def test_live_sessions_are_limited_per_token(stub, tokens) -> None:
    opened = [stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER), timeout=30,
                               metadata=_auth(tokens.infer)) for _ in range(2)]
    try:
        with pytest.raises(grpc.RpcError) as caught:
            stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER), timeout=30,
                             metadata=_auth(tokens.infer))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-client-sessions" in (caught.value.details() or "")
        other = stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER), timeout=30,
                                 metadata=_auth(tokens.other))
        stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=other.session_id),
                          timeout=30, metadata=_auth(tokens.other))
        stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=opened[0].session_id),
                          timeout=30, metadata=_auth(tokens.infer))
        opened[0] = stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER), timeout=30,
                                     metadata=_auth(tokens.infer))
    finally:
        for info in opened:
            stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=info.session_id),
                              timeout=30, metadata=_auth(tokens.infer))


def _kept_stream(stub: pb_grpc.SeqServeStub, token: str, *, keep: bool = True) -> str:
    """Open a Predict stream (keep: the session stays when it ends) and end it."""
    opening = pb.PredictRequest(open=pb.OpenSessionRequest(model=FORECASTER, keep=keep))
    [reply] = list(stub.Predict(iter([opening]), timeout=30, metadata=_auth(token)))
    return reply.session_id


def test_sessions_kept_after_their_predict_stream_count_as_live_sessions(stub, tokens) -> None:
    """Open with keep, end the stream, again: each kept session takes a slot, so one
    client cannot park sessions without limit while holding one stream at a time."""
    kept = [_kept_stream(stub, tokens.infer) for _ in range(2)]
    try:
        for refused in (lambda: _kept_stream(stub, tokens.infer),
                        lambda: stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER),
                                                 timeout=30, metadata=_auth(tokens.infer))):
            with pytest.raises(grpc.RpcError) as caught:
                refused()
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "--max-client-sessions" in (caught.value.details() or "")
        # A stream without keep leaves nothing behind: it is not refused.
        assert _kept_stream(stub, tokens.infer, keep=False)
        # Reattaching or reopening a session it holds is not a new session: no second
        # slot, and not refused at the ceiling.
        opening = pb.PredictRequest(open=pb.OpenSessionRequest(
            model=FORECASTER, session_id=kept[0], keep=True))
        [reply] = list(stub.Predict(iter([opening]), timeout=30,
                                    metadata=_auth(tokens.infer)))
        assert reply.session_id == kept[0]
        reopened = stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER, session_id=kept[1]),
                                    timeout=30, metadata=_auth(tokens.infer))
        assert reopened.session_id == kept[1]
        stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=kept.pop()),
                          timeout=30, metadata=_auth(tokens.infer))
        kept.append(_kept_stream(stub, tokens.infer))  # a slot was free again
    finally:
        for sid in kept:
            stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=sid), timeout=30,
                              metadata=_auth(tokens.infer))


def test_concurrent_unary_rpcs_are_limited_per_token(stub, tokens) -> None:
    request = pb.TranslateRequest(
        model="numbers", sentences=["nine hundred ninety nine thousand"] * 32,
        options=pb.DecodingOptions(beam_size=6, max_length=200),
    )

    def call(token: str) -> grpc.StatusCode:
        try:
            stub.Translate(request, timeout=60, metadata=_auth(token))
            return grpc.StatusCode.OK
        except grpc.RpcError as exc:
            assert exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or \
                "--max-client-rpcs" in (exc.details() or "")
            return exc.code()

    with ThreadPoolExecutor(12) as pool:
        burst = list(pool.map(call, [tokens.infer] * 12))
    assert set(burst) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in burst and grpc.StatusCode.OK in burst
    # One call at a time from another token is always within its own limit.
    assert call(tokens.other) == grpc.StatusCode.OK


def test_limits_count_per_identity() -> None:
    limits = ClientLimits(ClientLimitSettings(max_rpcs=1))
    limits.acquire("a", "rpcs")
    with pytest.raises(LimitExceeded, match="--max-client-rpcs"):
        limits.acquire("a", "rpcs")
    limits.acquire("b", "rpcs")
    limits.release("a", "rpcs")
    limits.acquire("a", "rpcs")
    assert limits.in_use("a", "rpcs") == 1
    limits.acquire("a", "streams")  # 0 = unlimited
    assert peer_host("ipv4:127.0.0.1:5555") == "ipv4:127.0.0.1"
    assert peer_host("ipv6:[::1]:5555") == "ipv6:[::1]"


def test_identity_without_a_token_is_the_certificate_name_else_the_peer_host() -> None:
    from seqserve.server.api.client_limits import client_identity

    class Context:
        def __init__(self, auth: dict[str, list[bytes]]) -> None:
            self.auth = auth

        def auth_context(self) -> dict[str, list[bytes]]:
            return self.auth

        def peer(self) -> str:
            return "ipv4:10.0.0.7:40000"

    assert client_identity(Context({"x509_common_name": [b"billing"]})) == "cert:billing"
    assert client_identity(Context({})) == "ipv4:10.0.0.7"
