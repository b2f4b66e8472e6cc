"""Small helpers for calling the real server with the generated seqserve.v1 stubs."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.session_tokens import TokenStub


def stub(address: str) -> tuple[grpc.Channel, pb_grpc.SeqServeStub]:
    """A channel and a stub that keeps and sends session tokens as a real client does
    (tests/support/session_tokens.py)."""
    channel = grpc.insecure_channel(address)
    return channel, TokenStub(pb_grpc.SeqServeStub(channel))  # type: ignore[return-value]


def raw_stub(address: str) -> tuple[grpc.Channel, pb_grpc.SeqServeStub]:
    """A plain stub that sends only what each request carries (isolation tests)."""
    channel = grpc.insecure_channel(address)
    return channel, pb_grpc.SeqServeStub(channel)


def request(sentences: list[str], model: str = "numbers", **options: object) -> pb.TranslateRequest:
    return pb.TranslateRequest(
        model=model, sentences=sentences, options=pb.DecodingOptions(**options)
    )


def held_out_pairs(run_dir: Path, count: int | None = None) -> list[tuple[str, str]]:
    pairs = []
    for line in (run_dir / "test.tsv").read_text().splitlines():
        source, target = line.split("\t")[:2]
        pairs.append((source, target))
    return pairs[:count] if count else pairs


def metric(url: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample over series whose labels include `labels`."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total
