"""protobuf <-> engine objects for the session RPCs (pure functions)."""

from __future__ import annotations

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.engine.sessions.model import ChunkInput, PredictResult
from seqserve.server.engine.sessions.session_info import SessionInfo
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
    # Built in place with add()/extend() from the result's columns: on the
    # streaming hot path this is the costliest Python per step, and in-place
    # construction takes about a third less than keyword-built messages.
    msg = pb.PredictResponse(
        session_id=result.session_id, first_step=result.first_step, position=result.position
    )
    cols = result.columns
    add_step = msg.steps.add
    for t in range(cols.steps):
        step = add_step()
        if cols.forecast is not None:
            step.forecast.extend(cols.forecast[t])
        if cols.ids is not None and cols.probs is not None and cols.tokens is not None:
            add_candidate = step.candidates.add
            for token, token_id, prob in zip(cols.tokens[t], cols.ids[t], cols.probs[t],
                                             strict=True):
                add_candidate(token=token, id=token_id, probability=prob)
        if cols.surprise is not None and cols.surprise[t] is not None:
            step.surprise_bits = cols.surprise[t]
    return msg
