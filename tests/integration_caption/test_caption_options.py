"""Decoding options on the served captioner (the same engine loop as translators)."""

from __future__ import annotations

import grpc
import pytest

from seqserve.models.data.scenes import held_out_scenes
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.integration_caption.test_caption_served import png
from tests.support.server_process import ServerProcess


def caption(server: ServerProcess, **options: object) -> pb.CaptionResponse:
    images = [pb.CaptionImage(encoded=png(scene.image)) for scene in held_out_scenes(2)]
    with grpc.insecure_channel(server.address) as channel:
        return pb_grpc.SeqServeStub(channel).Caption(
            pb.CaptionRequest(model="scenes", images=images,
                              options=pb.DecodingOptions(**options)), timeout=60)


def test_prefix_sampling_ngram_and_attention_on_a_captioner(
    caption_server: ServerProcess,
) -> None:
    words = caption(caption_server, beam_size=1).captions[0].hypotheses[0].text.split()
    if not words:
        pytest.skip("the tiny captioner said nothing: no word to force")
    forced = caption(caption_server, beam_size=3, target_prefix=[words[-1]])
    assert all(c.hypotheses[0].text.split()[:1] == [words[-1]] for c in forced.captions)
    sampled = {"sampling_topk": 0, "seed": 4, "n_best": 2, "no_repeat_ngram_size": 1}
    a, b = caption(caption_server, **sampled), caption(caption_server, **sampled)
    assert [[list(h.tokens) for h in c.hypotheses] for c in a.captions] == \
        [[list(h.tokens) for h in c.hypotheses] for c in b.captions]
    for c in a.captions:
        for h in c.hypotheses:
            assert len(set(h.tokens)) == len(h.tokens)
    with_attention = caption(caption_server, beam_size=2, return_attention=True)
    for c in with_attention.captions:
        assert len(c.hypotheses[0].attention) == len(c.hypotheses[0].tokens)


def test_unknown_prefix_word_is_invalid_argument(caption_server: ServerProcess) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        caption(caption_server, target_prefix=["zebra-unicorn"])
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "vocabulary" in raised.value.details()
