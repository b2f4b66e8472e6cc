"""Hostile bytes at the gRPC port and bounded resources, against the real server:
each abuse is answered or its connection dropped, and everyone else keeps being served."""

from __future__ import annotations

import os
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import ServerProcess, running_server

MAX_MESSAGE = 1024 * 1024
IDLE_SECONDS = 2


@pytest.fixture(scope="module")
def bounded_server(kserve_repository: Path) -> Iterator[ServerProcess]:
    args = ["--max-message-bytes", str(MAX_MESSAGE), "--stream-idle-timeout", str(IDLE_SECONDS),
            "--max-metadata-bytes", "8192", "--max-streams-per-connection", "16"]
    with running_server(kserve_repository, extra_args=args) as process:
        yield process


def _serves(address: str) -> None:
    """A good request on a fresh connection is answered."""
    with grpc.insecure_channel(address) as channel:
        reply = pb_grpc.SeqServeStub(channel).Translate(
            pb.TranslateRequest(model="numbers", sentences=["twelve"]), timeout=30)
    assert reply.model == "numbers" and len(reply.translations) == 1


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def _send_raw(address: str, payload: bytes, *, wait: float = 3.0) -> bytes:
    """Send bytes, return what came back before the server closed or `wait` passed."""
    received = b""
    with socket.create_connection(_host_port(address), timeout=10) as sock:
        sock.sendall(payload)
        sock.settimeout(wait)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


@pytest.mark.parametrize("payload", [
    os.urandom(4096),
    b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM",  # a truncated client preface, then silence
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\xff\xff\x04\x00\x00\x00\x00\x00" + b"\xff" * 512,
], ids=["random-bytes", "http1-request", "truncated-preface", "oversized-settings-frame"])
def test_garbage_on_the_grpc_port_leaves_the_server_serving(
    bounded_server: ServerProcess, payload: bytes
) -> None:
    with socket.create_connection(_host_port(bounded_server.address), timeout=10) as held:
        held.sendall(payload)  # left open while another client is served
        _serves(bounded_server.address)
    _send_raw(bounded_server.address, payload)
    _serves(bounded_server.address)
    assert bounded_server.alive()


def test_many_half_open_connections_do_not_block_others(bounded_server: ServerProcess) -> None:
    sockets = [socket.create_connection(_host_port(bounded_server.address), timeout=10)
               for _ in range(50)]
    try:
        for index, sock in enumerate(sockets):
            sock.sendall(b"PRI * HTTP/2.0\r\n" if index % 2 else b"\x16\x03\x01")
        _serves(bounded_server.address)
    finally:
        for sock in sockets:
            sock.close()


def test_oversized_message_is_refused_with_a_clear_status(bounded_server: ServerProcess) -> None:
    huge = pb.TranslateRequest(model="numbers", sentences=["x" * (2 * MAX_MESSAGE)])
    with grpc.insecure_channel(bounded_server.address) as channel, \
            pytest.raises(grpc.RpcError) as caught:
        pb_grpc.SeqServeStub(channel).Translate(huge, timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in (caught.value.details() or "")
    _serves(bounded_server.address)


def test_oversized_metadata_is_refused(bounded_server: ServerProcess) -> None:
    with grpc.insecure_channel(bounded_server.address) as channel, \
            pytest.raises(grpc.RpcError) as caught:
        pb_grpc.SeqServeStub(channel).ListModels(
            pb.ListModelsRequest(), timeout=30, metadata=[("x-padding", "p" * 9000)])
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "metadata size" in (caught.value.details() or "")
    _serves(bounded_server.address)


def test_silent_predict_stream_ends_with_deadline_exceeded(bounded_server: ServerProcess) -> None:
    import queue

    sent: queue.Queue[pb.PredictRequest | None] = queue.Queue()
    sent.put(pb.PredictRequest(open=pb.OpenSessionRequest(model="co2")))
    started = time.monotonic()
    with grpc.insecure_channel(bounded_server.address) as channel:
        call = pb_grpc.SeqServeStub(channel).Predict(iter(sent.get, None), timeout=60)
        assert next(call).session_id
        with pytest.raises(grpc.RpcError) as caught:
            next(call)  # the client sends nothing more
        sent.put(None)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "--stream-idle-timeout" in (caught.value.details() or "")
    assert IDLE_SECONDS <= time.monotonic() - started < 45
    _serves(bounded_server.address)


def _png(width: int, height: int, rows: int | None = None) -> bytes:
    """A grayscale PNG whose header says width x height; `rows` of zero pixels are really
    compressed (a zip bomb), None = no pixel data at all."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(packer.compress(row) for _ in range(rows or 0)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("image", [
    _png(100_000, 100_000),
    _png(6000, 6000, rows=6000),  # 36 Mpx of zeros in about 35 KB
], ids=["header-only-10-gigapixels", "zip-bomb-36-megapixels"])
def test_decompression_bomb_images_are_invalid_argument(
    bounded_server: ServerProcess, image: bytes
) -> None:
    assert len(image) < MAX_MESSAGE
    with grpc.insecure_channel(bounded_server.address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.SeqServeStub(channel).Caption(pb.CaptionRequest(
                model="scenes", images=[pb.CaptionImage(encoded=image)]), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        tensor = kpb.ModelInferRequest.InferInputTensor(name="IMAGE", datatype="BYTES",
                                                         shape=[1, 1])
        tensor.contents.bytes_contents.append(image)
        with pytest.raises(grpc.RpcError) as caught:
            kpb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(
                kpb.ModelInferRequest(model_name="scenes", inputs=[tensor]), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _serves(bounded_server.address)


@pytest.mark.parametrize("service, method", [
    ("seqserve", "PredictMany"), ("kserve", "ModelStreamInfer"), ("seqserve", "Predict"),
])
def test_streams_that_never_send_end_with_deadline_exceeded(
    bounded_server: ServerProcess, service: str, method: str
) -> None:
    import queue

    silence: queue.Queue[object] = queue.Queue()
    with grpc.insecure_channel(bounded_server.address) as channel:
        stub = pb_grpc.SeqServeStub(channel) if service == "seqserve" else \
            kpb_grpc.GRPCInferenceServiceStub(channel)
        call = getattr(stub, method)(iter(silence.get, None), timeout=60)
        with pytest.raises(grpc.RpcError) as caught:
            list(call)
        silence.put(None)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "--stream-idle-timeout" in (caught.value.details() or "")


def test_a_huge_model_name_gets_its_real_status_not_a_metadata_overflow(
    bounded_server: ServerProcess,
) -> None:
    # Found by the fuzz suite: NOT_FOUND echoing a 10,000-character name made the
    # grpc-message trailer exceed the client's 8 KiB metadata limit.
    with grpc.insecure_channel(bounded_server.address) as channel:
        for name in ("x" * 10_000, "\U0001f600" * 3_000):
            with pytest.raises(grpc.RpcError) as caught:
                pb_grpc.SeqServeStub(channel).GetModel(pb.GetModelRequest(model=name), timeout=30)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            assert "message cut" in (caught.value.details() or "")
