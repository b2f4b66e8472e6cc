"""protobuf <-> tagger engine objects for the Tag RPC (pure functions)."""

from __future__ import annotations

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.tagger import TokenLabel
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.tagger import check_tokens


def sentences_from_request(request: pb.TagRequest) -> list[list[str]]:
    """Raw `texts` split on whitespace, or pre-tokenised `sentences`; exactly one of them."""
    if request.texts and request.sentences:
        raise InvalidArgumentError("set either texts or sentences, not both")
    # The tagger kind's rules (server/kinds/tagger.py), before the model lookup.
    if request.texts:
        split = [text.split() for text in request.texts]
        check_tokens(split, field="texts")
        return split
    sentences = [list(s.tokens) for s in request.sentences]
    check_tokens(sentences)
    return sentences


def tag_response(info: ModelInfo, tagged: list[list[TokenLabel]]) -> pb.TagResponse:
    # Built in place with add(): one message per token, the costliest Python of a
    # Tag call after the graph, and add() takes about a third less than kwargs.
    msg = pb.TagResponse(model=info.name, version=info.version)
    add_sentence = msg.sentences.add
    for sentence in tagged:
        add_token = add_sentence().tokens.add
        for t in sentence:
            tag = add_token(token=t.token, label=t.label, probability=t.probability)
            if t.top:
                add_top = tag.top.add
                for label, probability in t.top:
                    add_top(label=label, probability=probability)
    return msg
