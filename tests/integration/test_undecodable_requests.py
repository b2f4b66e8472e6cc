"""A request that is not a valid protobuf message (garbage, a truncated field, invalid
UTF-8 in a string field) is INVALID_ARGUMENT naming the method, on unary, server-
streaming and bidirectional methods of both APIs, and the server keeps serving."""

from __future__ import annotations

import grpc
import pytest

from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import ServerProcess

GARBAGE = {
    "invalid UTF-8 in a string field": b"\x0a\x02\xff\xfe",
    "truncated length-delimited field": b"\x0a\x40abc",
    "invalid wire type": b"\x0f\x01",
}
UNARY = ["/seqserve.v1.SeqServe/Translate", "/inference.GRPCInferenceService/ModelInfer"]


def _serves(server: ServerProcess) -> None:
    channel, client = stub(server.address)
    with channel:
        reply = client.Translate(request(["twelve"]), timeout=30)
    assert len(reply.translations) == 1


@pytest.mark.parametrize("method", UNARY)
@pytest.mark.parametrize("payload", list(GARBAGE.values()), ids=list(GARBAGE))
def test_undecodable_unary_request(server: ServerProcess, method: str, payload: bytes) -> None:
    with grpc.insecure_channel(server.address) as channel:
        call = channel.unary_unary(method)
        with pytest.raises(grpc.RpcError) as raised:
            call(payload, timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert method.rsplit("/", 1)[1] in raised.value.details()
    _serves(server)


def test_undecodable_server_streaming_request(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as channel:
        call = channel.unary_stream("/seqserve.v1.SeqServe/TranslateStream")
        with pytest.raises(grpc.RpcError) as raised:
            list(call(GARBAGE["invalid UTF-8 in a string field"], timeout=30))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _serves(server)


@pytest.mark.parametrize("method", [
    "/inference.GRPCInferenceService/ModelStreamInfer", "/seqserve.v1.SeqServe/PredictMany",
    "/seqserve.v1.SeqServe/Predict",
])
def test_undecodable_message_on_a_bidirectional_stream(server: ServerProcess, method) -> None:
    with grpc.insecure_channel(server.address) as channel:
        call = channel.stream_stream(method)
        with pytest.raises(grpc.RpcError) as raised:
            list(call(iter([GARBAGE["truncated length-delimited field"]]), timeout=30))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    _serves(server)
