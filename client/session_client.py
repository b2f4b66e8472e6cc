"""A small client for streaming sessions, and `python -m seqserve.client.session_client`.

    python -m seqserve.client.session_client --address 127.0.0.1:50051 \\
        --model co2 --values "315.7 317.5 317.6 | 317.5 316.4"     # '|' separates chunks
    python -m seqserve.client.session_client --model charlm --text "Choose |Format - |Cells"
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import grpc

from seqserve.client.channel import connect
from seqserve.client.security import add_client_security_arguments, client_security_from_args
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc

SESSION_HEADER = "x-seqserve-session"
"""Request metadata carrying the session id, so a balancer (deploy/haproxy) can send
every RPC of one session to the replica that owns it."""


def session_metadata(session_id: str) -> tuple[tuple[str, str], ...]:
    """Call metadata for a session's RPCs (empty without an id: any replica will do)."""
    return ((SESSION_HEADER, session_id),) if session_id else ()


def open_message(
    model: str, session_id: str = "", *, keep: bool = False, resume_from: int | None = None,
    session_token: str = "",
) -> pb.PredictRequest:
    """The stream's first message. `resume_from`: the position of the last response the
    client received (the server replays what it missed); `session_token`: the token the
    session's first open returned (required to reopen it, unless the server runs with
    --session-tokens off or the caller has credentials)."""
    request = pb.OpenSessionRequest(
        model=model, session_id=session_id, keep=keep, session_token=session_token
    )
    if resume_from is not None:
        request.resume_from = resume_from
    return pb.PredictRequest(open=request)


def chunk_message(
    *, values: list[float] | None = None, tokens: list[int] | None = None,
    text: str | None = None, top_k: int = 0,
) -> pb.PredictRequest:
    if values is not None:
        chunk = pb.Chunk(values=pb.FloatValues(values=values))
    elif tokens is not None:
        chunk = pb.Chunk(tokens=pb.TokenIds(ids=tokens))
    else:
        chunk = pb.Chunk(text=text or "")
    return pb.PredictRequest(chunk=chunk, top_k=top_k)


def stream(
    stub: pb_grpc.SeqServeStub, model: str, chunks: list[pb.PredictRequest],
    session_id: str = "", *, keep: bool = False, timeout: float = 60.0,
    resume_from: int | None = None, session_token: str = "",
) -> list[pb.PredictResponse]:
    """One Predict stream: open, send every chunk, return every response (open's first)."""

    def requests() -> Iterator[pb.PredictRequest]:
        yield open_message(model, session_id, keep=keep, resume_from=resume_from,
                           session_token=session_token)
        yield from chunks

    return list(stub.Predict(requests(), timeout=timeout,
                             metadata=session_metadata(session_id)))


def _describe(step: pb.StepOutput) -> str:
    parts = []
    if step.forecast:
        parts.append("forecast " + " ".join(f"{v:.2f}" for v in step.forecast))
    if step.candidates:
        parts.append("next " + " ".join(f"{c.token!r}:{c.probability:.2f}"
                                        for c in step.candidates))
    if step.HasField("surprise_bits"):
        parts.append(f"surprise {step.surprise_bits:.2f} bits")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqserve.client.session_client")
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--model", required=True)
    parser.add_argument("--session-id", default="")
    parser.add_argument("--values", help="float steps, chunks separated by '|'")
    parser.add_argument("--text", help="characters, chunks separated by '|'")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the session after the stream")
    parser.add_argument("--session-token", default="",
                        help="the token printed when the session was opened (to continue it)")
    add_client_security_arguments(parser)
    args = parser.parse_args(argv)
    if (args.values is None) == (args.text is None):
        parser.error("give exactly one of --values or --text")
    if args.values is not None:
        chunks = [chunk_message(values=[float(v) for v in part.split()])
                  for part in args.values.split("|")]
    else:
        chunks = [chunk_message(text=part, top_k=args.top_k) for part in args.text.split("|")]
    with connect(args.address, security=client_security_from_args(args)) as channel:
        try:
            responses = stream(pb_grpc.SeqServeStub(channel), args.model, chunks,
                               args.session_id, keep=args.keep,
                               session_token=args.session_token)
        except grpc.RpcError as exc:
            print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    opened = responses[0].session
    print(f"session {opened.session_id} at position {opened.position}"
          f"{' (resumed)' if opened.resumed else ''}")
    if opened.session_token and args.keep:
        print(f"session token {opened.session_token} (pass --session-token to continue it)")
    for response in responses[1:]:
        for offset, step in enumerate(response.steps):
            print(f"  step {response.first_step + offset}: {_describe(step)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
