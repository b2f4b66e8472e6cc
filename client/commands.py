"""`seqserve client tag|caption|stream`: the command-line clients of the other
kinds, reached from the `seqserve` console script.

tag and caption are the Tag/Caption client (tag_caption_client.py) as is;
stream reads a FILE of chunks, one per line, and runs them through one
Predict stream with the session client (session_client.py):

    seqserve client stream --target HOST:PORT --model co2 FILE          # float values
    seqserve client stream --target HOST:PORT --model charlm --text FILE  # characters
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = {
    "tag": "tag sentences (Tag RPC)",
    "caption": "caption PNG/JPEG files (Caption RPC)",
    "stream": "run a FILE of chunks, one per line, through one streaming session",
}


def _stream(argv: list[str]) -> int:
    from seqserve.client import session_client
    from seqserve.client.security import (
        add_client_security_arguments,
        forwarded_security_arguments,
    )

    parser = argparse.ArgumentParser(prog="seqserve client stream")
    parser.add_argument("--target", default="127.0.0.1:50051", help="HOST:PORT of the server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--text", action="store_true",
                        help="lines are text (one step per character), not float values")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--session-id", default="")
    parser.add_argument("file", type=Path, help="one chunk per line ('-' = stdin)")
    add_client_security_arguments(parser)
    args = parser.parse_args(argv)
    source = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if line.strip()]
    if not lines:
        parser.error(f"{args.file}: no chunks (every line is empty)")
    if "|" in source:
        # The session client separates chunks with '|'; a literal one cannot pass.
        parser.error(f"{args.file}: '|' is not supported inside a chunk")
    forwarded = ["--address", args.target, "--model", args.model, "--top-k", str(args.top_k)]
    if args.session_id:
        forwarded += ["--session-id", args.session_id]
    forwarded += forwarded_security_arguments(args)
    forwarded += ["--text" if args.text else "--values", "|".join(lines)]
    return session_client.main(forwarded)


def run(command: str, argv: list[str]) -> int:
    """Run `seqserve client COMMAND ARGV...`; returns the exit code."""
    if command == "stream":
        return _stream(argv)
    from seqserve.client import tag_caption_client

    return int(tag_caption_client.main([command, *argv]) or 0)
