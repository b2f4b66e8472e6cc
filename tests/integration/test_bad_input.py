"""Every bad request gets a clear status naming the problem, and the server keeps serving."""

from __future__ import annotations

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import ServerProcess

CASES = [
    ("unknown model", request(["one"], model="no-such-model"), grpc.StatusCode.NOT_FOUND,
     "no-such-model"),
    ("unknown version", pb.TranslateRequest(model="numbers", version=7, sentences=["one"]),
     grpc.StatusCode.NOT_FOUND, "version"),
    ("empty request", request([]), grpc.StatusCode.INVALID_ARGUMENT, "sentence"),
    ("empty sentence", request(["one", "  "]), grpc.StatusCode.INVALID_ARGUMENT, "1"),
    ("too many sentences", request(["one"] * 33), grpc.StatusCode.INVALID_ARGUMENT,
     "max_sentences"),
    ("sentence over the token limit", request([" ".join(["seventy"] * 60)]),
     grpc.StatusCode.INVALID_ARGUMENT, "max_source_tokens"),
    ("sentence over the character bound", request(["seventy " * 200_000]),
     grpc.StatusCode.INVALID_ARGUMENT, "characters"),
    ("beam size over the limit", request(["one"], beam_size=7),
     grpc.StatusCode.INVALID_ARGUMENT, "max_beam_size"),
    ("beam size zero", request(["one"], beam_size=0), grpc.StatusCode.INVALID_ARGUMENT,
     "beam_size"),
    ("n-best zero", request(["one"], n_best=0), grpc.StatusCode.INVALID_ARGUMENT, "n_best"),
    ("n-best over beam", request(["one"], beam_size=2, n_best=3),
     grpc.StatusCode.INVALID_ARGUMENT, "n_best"),
    ("max length over the limit", request(["one"], max_length=10_000),
     grpc.StatusCode.INVALID_ARGUMENT, "max_output_length"),
    ("missing model name", request(["one"], model=""), grpc.StatusCode.INVALID_ARGUMENT,
     "model"),
]


@pytest.mark.parametrize(("case", "bad", "code", "mentions"), CASES, ids=[c[0] for c in CASES])
def test_bad_request_gets_its_status_and_server_keeps_serving(
    server: ServerProcess, case: str, bad: pb.TranslateRequest, code: grpc.StatusCode,
    mentions: str,
) -> None:
    channel, client = stub(server.address)
    with channel:
        with pytest.raises(grpc.RpcError) as raised:
            client.Translate(bad, timeout=30)
        assert raised.value.code() == code, raised.value.details()
        assert mentions in raised.value.details()
        # The same error on the streaming RPC.
        with pytest.raises(grpc.RpcError) as streamed:
            list(client.TranslateStream(bad, timeout=30))
        assert streamed.value.code() == code
        good = client.Translate(request(["twelve"]), timeout=30)
    # Any hypothesis (a tiny model may even say nothing) proves the server still answers.
    assert len(good.translations) == 1 and len(good.translations[0].hypotheses) == 1
    assert server.alive()
