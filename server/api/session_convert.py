"""protobuf <-> engine objects for the session RPCs (pure functions)."""

from __future__ import annotations

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.sessions.model import ChunkInput, PredictResult
from seqserve.server.engine.sessions.scheduler import SessionInfo
from seqserve.server.errors import InvalidArgumentError


def chunk_from_proto(msg: pb.Chunk) -> ChunkInput:
    which = msg.WhichOneof("data")
    if which == "values":
        return ChunkInput(values=list(msg.values.values))
    if which == "tokens":
        return ChunkInput(tokens=list(msg.tokens.ids))
    if which == "text":
        return ChunkInput(text=msg.text)
    raise InvalidArgumentError("empty chunk: set values, tokens or text")


def chunk_to_proto(chunk: ChunkInput) -> pb.Chunk:
    """The client side."""
    if chunk.values is not None:
        return pb.Chunk(values=pb.FloatValues(values=[float(v) for v in chunk.values]))
    if chunk.tokens is not None:
        return pb.Chunk(tokens=pb.TokenIds(ids=[int(t) for t in chunk.tokens]))
    return pb.Chunk(text=chunk.text or "")


def session_info(model: str, version: int, info: SessionInfo) -> pb.SessionInfo:
    return pb.SessionInfo(
        session_id=info.session_id, model=model, version=version, position=info.position,
        resumed=info.resumed, state_bytes=info.state_bytes, pending_chunks=info.pending_chunks,
    )


def predict_response(result: PredictResult) -> pb.PredictResponse:
    steps = []
    for step in result.steps:
        msg = pb.StepOutput(
            forecast=step.forecast,
            candidates=[
                pb.Candidate(token=c.token, id=c.id, probability=c.prob) for c in step.candidates
            ],
        )
        if step.surprise_bits is not None:
            msg.surprise_bits = step.surprise_bits
        steps.append(msg)
    return pb.PredictResponse(
        session_id=result.session_id, first_step=result.first_step, position=result.position,
        steps=steps,
    )
