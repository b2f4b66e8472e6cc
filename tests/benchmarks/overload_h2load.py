"""Offer gRPC unary calls from h2load: bulk load that costs the machine almost nothing.

On a 2-core machine, Python load generators take about a core to offer ~700
calls/s, so the server's engine loses the CPU the benchmark then blames on it.
h2load (nghttp2-client, C) speaks h2c and can send a real gRPC unary call: a
body holding the 5-byte gRPC frame prefix (compressed flag 0, big-endian
length) and the serialized request, with the gRPC headers. It only sees HTTP
statuses (gRPC puts its status in trailers), so the caller measures outcomes
by code with a small Python probe and the server's own counters.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

H2LOAD = "h2load"
STREAMS_PER_CONNECTION = 1000
"""h2load's -m: below the server's 1024 concurrent streams per connection."""


def available() -> bool:
    return shutil.which(H2LOAD) is not None


def version() -> str:
    out = subprocess.run([H2LOAD, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else H2LOAD


def write_grpc_body(request: Message, path: Path) -> Path:
    """One length-prefixed gRPC message, as a unary call's whole request body."""
    payload = request.SerializeToString()
    path.write_bytes(struct.pack(">BI", 0, len(payload)) + payload)
    return path


def grpc_timeout_header(seconds: float) -> str:
    """grpc-timeout in milliseconds (at most 8 digits, as the wire format allows)."""
    return f"grpc-timeout: {max(1, round(seconds * 1000))}m"


@dataclass
class H2LoadResult:
    started: int
    done: int
    errored: int
    seconds: float
    output: str


def run(
    url: str, body: Path, *, rate: float | None, seconds: float, deadline: float | None,
    connections: int,
) -> H2LoadResult:
    """Offer calls to `url` for `seconds`: open loop at `rate` calls/s in all (spread
    over `connections`), or closed loop with every stream busy when `rate` is None.
    Bounded: h2load stops at the duration, and the call is killed well after it."""
    command = [
        H2LOAD, "-c", str(connections), "-m", str(STREAMS_PER_CONNECTION), "-D",
        str(max(1, round(seconds))), "-d", str(body),
        "-H", "content-type: application/grpc", "-H", "te: trailers",
    ]
    if deadline is not None:
        command += ["-H", grpc_timeout_header(deadline)]
    if rate is not None:
        command += ["--rps", str(max(1, round(rate / connections)))]
    else:
        command[4] = "32"  # closed loop: 32 calls in flight per connection
    command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                         check=False)
    text = out.stdout + out.stderr
    counts = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored", text)
    finished = re.search(r"finished in ([\d.]+)(ms|s),", text)
    if out.returncode != 0 or counts is None or finished is None:
        raise RuntimeError(f"h2load failed (exit {out.returncode}):\n{text[-2000:]}")
    took = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    return H2LoadResult(started=int(counts.group(2)), done=int(counts.group(3)),
                        errored=int(counts.group(6)), seconds=took, output=text)
