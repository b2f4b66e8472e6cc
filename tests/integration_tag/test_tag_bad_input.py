"""Every bad Tag request gets INVALID_ARGUMENT naming the problem; the server keeps serving."""

from __future__ import annotations

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import ServerProcess

T = pb.TagTokens
CASES = [
    ("no sentences", pb.TagRequest(model="pos"), "no sentences"),
    ("empty raw sentence", pb.TagRequest(model="pos", texts=["bir", "   "]), "texts[1]"),
    ("empty token list", pb.TagRequest(model="pos", sentences=[T(tokens=[])]), "sentences[0]"),
    ("blank token", pb.TagRequest(model="pos", sentences=[T(tokens=["a", " "])]),
     "tokens[1]"),
    ("sentence over the token limit",
     pb.TagRequest(model="pos", texts=[" ".join(["kelime"] * 41)]), "max_tokens"),
    ("too many sentences", pb.TagRequest(model="pos", texts=["bir"] * 17), "max_sentences"),
    ("top_k over the limit", pb.TagRequest(model="pos", texts=["bir"], top_k=4), "max_top_k"),
    ("texts and sentences both set",
     pb.TagRequest(model="pos", texts=["bir"], sentences=[T(tokens=["bir"])]), "not both"),
    ("missing model name", pb.TagRequest(texts=["bir"]), "model"),
]


@pytest.mark.parametrize(("case", "bad", "mentions"), CASES, ids=[c[0] for c in CASES])
def test_bad_tag_request_is_invalid_argument(
    tag_server: ServerProcess, case: str, bad: pb.TagRequest, mentions: str
) -> None:
    channel = grpc.insecure_channel(tag_server.address)
    client = pb_grpc.SeqServeStub(channel)
    with channel:
        with pytest.raises(grpc.RpcError) as raised:
            client.Tag(bad, timeout=30)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
        assert mentions in raised.value.details()
        good = client.Tag(pb.TagRequest(model="pos", texts=["iki kitap"]), timeout=30)
    assert len(good.sentences[0].tokens) == 2
    assert tag_server.alive()


def test_unknown_tagger_is_not_found(tag_server: ServerProcess) -> None:
    channel = grpc.insecure_channel(tag_server.address)
    with channel, pytest.raises(grpc.RpcError) as raised:
        pb_grpc.SeqServeStub(channel).Tag(pb.TagRequest(model="nope", texts=["a"]), timeout=30)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
