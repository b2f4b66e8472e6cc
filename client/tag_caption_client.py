"""Command-line calls of Tag and Caption (for the demo and for trying a model).

    python -m seqserve.client.tag_caption_client tag --target HOST:PORT \\
        --model pos-tr [--top-k 2] "Bu kitap çok güzel ." ...
    python -m seqserve.client.tag_caption_client caption --target HOST:PORT \\
        --model scenes [--beam-size 5 --n-best 3] scene.png ...

Exit code 1 and the status on stderr when the server refuses a call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc

from seqserve.client.channel import connect
from seqserve.client.security import add_client_security_arguments, client_security_from_args
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m seqserve.client.tag_caption_client")
    sub = p.add_subparsers(dest="command", required=True)
    tag = sub.add_parser("tag", help="tag raw sentences (split on whitespace)")
    caption = sub.add_parser("caption", help="caption PNG/JPEG files")
    for command in (tag, caption):
        command.add_argument("--target", default="127.0.0.1:50051")
        command.add_argument("--model", required=True)
        command.add_argument("--timeout", type=float, default=30.0)
        add_client_security_arguments(command)
    tag.add_argument("--top-k", type=int, default=0)
    tag.add_argument("texts", nargs="+")
    caption.add_argument("--beam-size", type=int)
    caption.add_argument("--n-best", type=int)
    caption.add_argument("images", nargs="+", type=Path)
    return p


def _tag(stub: pb_grpc.SeqServeStub, args: argparse.Namespace) -> None:
    reply = stub.Tag(
        pb.TagRequest(model=args.model, texts=args.texts, top_k=args.top_k), timeout=args.timeout
    )
    print(f"# {reply.model} v{reply.version}")
    for sentence in reply.sentences:
        cells = []
        for token in sentence.tokens:
            cell = f"{token.token}/{token.label}({token.probability:.2f})"
            if token.top:
                cell += "[" + ",".join(f"{t.label}:{t.probability:.2f}" for t in token.top) + "]"
            cells.append(cell)
        print(" ".join(cells))


def _caption(stub: pb_grpc.SeqServeStub, args: argparse.Namespace) -> None:
    options = pb.DecodingOptions()
    if args.beam_size is not None:
        options.beam_size = args.beam_size
    if args.n_best is not None:
        options.n_best = args.n_best
    images = [pb.CaptionImage(encoded=path.read_bytes()) for path in args.images]
    reply = stub.Caption(
        pb.CaptionRequest(model=args.model, images=images, options=options), timeout=args.timeout
    )
    print(f"# {reply.model} v{reply.version}")
    for path, captions in zip(args.images, reply.captions, strict=True):
        for rank, hyp in enumerate(captions.hypotheses, 1):
            print(f"{path.name}\t{rank}\t{hyp.score:.3f}\t{hyp.text}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with connect(args.target, security=client_security_from_args(args)) as channel:
        stub = pb_grpc.SeqServeStub(channel)
        try:
            (_tag if args.command == "tag" else _caption)(stub, args)
        except grpc.RpcError as exc:
            print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
