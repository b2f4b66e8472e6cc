"""protobuf <-> tagger engine objects for the Tag RPC (pure functions)."""

from __future__ import annotations

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.tagger import TokenLabel
from seqserve.server.errors import InvalidArgumentError


def sentences_from_request(request: pb.TagRequest) -> list[list[str]]:
    """Raw `texts` split on whitespace, or pre-tokenised `sentences`; exactly one of them."""
    if request.texts and request.sentences:
        raise InvalidArgumentError("set either texts or sentences, not both")
    if request.texts:
        split = [text.split() for text in request.texts]
        for index, tokens in enumerate(split):
            if not tokens:
                raise InvalidArgumentError(f"texts[{index}] is empty or whitespace only")
        return split
    if not request.sentences:
        raise InvalidArgumentError("no sentences: set texts or sentences")
    sentences = [list(s.tokens) for s in request.sentences]
    for index, tokens in enumerate(sentences):
        if not tokens:
            raise InvalidArgumentError(f"sentences[{index}] has no tokens")
        for position, token in enumerate(tokens):
            if not token.strip():
                raise InvalidArgumentError(
                    f"sentences[{index}].tokens[{position}] is empty or whitespace only"
                )
    return sentences


def tag_response(info: ModelInfo, tagged: list[list[TokenLabel]]) -> pb.TagResponse:
    return pb.TagResponse(
        model=info.name,
        version=info.version,
        sentences=[
            pb.TaggedSentence(tokens=[
                pb.TokenTag(
                    token=t.token, label=t.label, probability=t.probability,
                    top=[pb.LabelProbability(label=lab, probability=p) for lab, p in t.top],
                )
                for t in sentence
            ])
            for sentence in tagged
        ],
    )
