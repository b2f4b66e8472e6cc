"""Requests under the 16 MB message limit that used to cost seconds of CPU are bounded
by the model's limits before their payload is decoded (a 3 M-element tagger input,
a 15 MB sentence, four all-zero 4096x4096 PNGs), and health keeps answering while
they are handled."""

from __future__ import annotations

import io
import threading

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image
from tritonclient.grpc import service_pb2, service_pb2_grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api.kserve.tensors import pack_bytes
from tests.kserve.conftest import CAPTIONER, TAGGER, TRANSLATOR
from tests.kserve.kserve_helpers import expect_error, raw_stub

Tensor = service_pb2.ModelInferRequest.InferInputTensor
HEALTH_TIMEOUT_S = 3.0  # generous (shared CI machine); the blocking was 2-4 s per request


def _zero_png(side: int = 4096) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.zeros((side, side), np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _tagger_tokens(count: int) -> service_pb2.ModelInferRequest:
    return service_pb2.ModelInferRequest(
        model_name=TAGGER, inputs=[Tensor(name="TOKENS", datatype="BYTES", shape=[1, count])],
        raw_input_contents=[pack_bytes([b""] * count)],
    )


def _caption(images: list[bytes]) -> service_pb2.ModelInferRequest:
    return service_pb2.ModelInferRequest(
        model_name=CAPTIONER,
        inputs=[Tensor(name="IMAGE", datatype="BYTES", shape=[len(images), 1])],
        raw_input_contents=[pack_bytes(images)],
    )


def test_a_3m_element_tagger_input_is_refused_before_decoding(kserve_server) -> None:
    with raw_stub(kserve_server.address) as stub:
        expect_error(lambda: stub.ModelInfer(_tagger_tokens(3_000_000), timeout=60),
                     "INVALID_ARGUMENT", "'TOKENS'", "3000000", "limit")


def test_the_pixels_of_all_images_of_a_request_are_bounded(kserve_server) -> None:
    png = _zero_png()
    with raw_stub(kserve_server.address) as stub:
        expect_error(lambda: stub.ModelInfer(_caption([png] * 4), timeout=60),
                     "INVALID_ARGUMENT", "max_request_pixels")


@pytest.fixture(scope="module")
def heavy_requests(kserve_server):
    png = _zero_png()
    translate = pb.TranslateRequest(model=TRANSLATOR, sentences=["seventy " * 1_900_000])

    def tagger(channel):
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        return stub.ModelInfer(_tagger_tokens(3_000_000), timeout=60)

    def caption(channel):
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        return stub.ModelInfer(_caption([png] * 4), timeout=60)

    def translate_call(channel):
        return pb_grpc.SeqServeStub(channel).Translate(translate, timeout=60)

    return [tagger, caption, translate_call]


def test_health_answers_while_heavy_requests_are_handled(kserve_server, heavy_requests) -> None:
    options = [("grpc.max_send_message_length", 32 << 20)]
    outcomes: list[grpc.StatusCode] = []
    stop = threading.Event()

    def hammer(call) -> None:
        with grpc.insecure_channel(kserve_server.address, options=options) as channel:
            while not stop.is_set():
                try:
                    call(channel)
                    outcomes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    outcomes.append(exc.code())

    threads = [threading.Thread(target=hammer, args=(c,), daemon=True)
               for c in heavy_requests for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        with grpc.insecure_channel(kserve_server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(10):
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT_S)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert outcomes and set(outcomes) == {grpc.StatusCode.INVALID_ARGUMENT}
