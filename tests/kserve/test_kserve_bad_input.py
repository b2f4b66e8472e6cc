"""The bad-input list of the KServe v2 API: each is INVALID_ARGUMENT (or NOT_FOUND)
with Triton's wording where it has one, and the server keeps serving after it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2

from tests.kserve.conftest import FORECASTER, TRANSLATOR
from tests.kserve.kserve_helpers import (
    bytes_request,
    decoded,
    expect_error,
    raw_stub,
    text_input,
)

Tensor = service_pb2.ModelInferRequest.InferInputTensor


@pytest.fixture(autouse=True)
def still_serving(triton) -> Iterator[None]:
    yield
    assert triton.is_server_live()
    result = triton.infer(TRANSLATOR, [text_input("TEXT", ["four"])], parameters={"beam_size": 1})
    # One answer row, whatever a tiny model says, proves the server still serves.
    assert len(decoded(result.as_numpy("HYPOTHESES"))) == 1


def _send(address: str, request: service_pb2.ModelInferRequest) -> object:
    with raw_stub(address) as stub:
        return stub.ModelInfer(request, timeout=30)


def test_bytes_shape_and_data_disagree(kserve_server) -> None:
    request = service_pb2.ModelInferRequest(
        model_name=TRANSLATOR,
        inputs=[Tensor(name="TEXT", datatype="BYTES", shape=[2, 1])],
        raw_input_contents=[b"\x03\x00\x00\x00one"],
    )
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "unexpected number of string elements 1", "'TEXT'")


def test_numeric_shape_and_byte_size_disagree(kserve_server) -> None:
    request = service_pb2.ModelInferRequest(
        model_name=FORECASTER, parameters={"sequence_id": service_pb2.InferParameter(
            int64_param=5), "sequence_start": service_pb2.InferParameter(bool_param=True)},
        inputs=[Tensor(name="INPUT", datatype="FP32", shape=[3, 1])],
        raw_input_contents=[np.zeros(2, np.float32).tobytes()],
    )
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "input byte size mismatch for input 'INPUT'", "Expected 12, got 8")


def test_typed_contents_count_disagrees_with_shape(kserve_server) -> None:
    request = bytes_request(TRANSLATOR, [b"one", b"two"])
    request.inputs[0].shape[:] = [3, 1]
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "unexpected number of elements for input 'TEXT'")


def test_unknown_datatype(kserve_server) -> None:
    request = bytes_request(TRANSLATOR, [b"one"])
    request.inputs[0].datatype = "STRINGY"
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "invalid datatype 'STRINGY'")


def test_wrong_datatype_for_the_input(triton) -> None:
    tensor = grpcclient.InferInput("TEXT", [1, 1], "FP32")
    tensor.set_data_from_numpy(np.zeros((1, 1), np.float32))
    expect_error(lambda: triton.infer(TRANSLATOR, [tensor]), "INVALID_ARGUMENT",
                 "inference input 'TEXT' data-type is 'FP32', but model 'numbers' expects 'BYTES'")


def test_missing_input(kserve_server) -> None:
    request = service_pb2.ModelInferRequest(model_name=TRANSLATOR)
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "expected 1 inputs but got 0 inputs for model 'numbers'")


def test_wrong_input_name(triton) -> None:
    expect_error(lambda: triton.infer(TRANSLATOR, [text_input("SOURCE", ["one"])]),
                 "INVALID_ARGUMENT", "unexpected inference input 'SOURCE' for model 'numbers'")


def test_raw_and_typed_contents_both_set(kserve_server) -> None:
    request = bytes_request(TRANSLATOR, [b"one"])
    request.raw_input_contents.append(b"\x03\x00\x00\x00one")
    expect_error(lambda: _send(kserve_server.address, request), "INVALID_ARGUMENT",
                 "contents field must not be specified when using raw_input_contents for 'TEXT'")


def test_wrong_shape(triton) -> None:
    tensor = grpcclient.InferInput("TEXT", [1, 2], "BYTES")
    tensor.set_data_from_numpy(np.array([[b"one", b"two"]], dtype=object))
    expect_error(lambda: triton.infer(TRANSLATOR, [tensor]), "INVALID_ARGUMENT",
                 "unexpected shape for input 'TEXT'", "Expected [-1, 1], got [1, 2]")


def test_bad_decoding_option(triton) -> None:
    expect_error(
        lambda: triton.infer(TRANSLATOR, [text_input("TEXT", ["one"])],
                             parameters={"beam_size": 99}),
        "INVALID_ARGUMENT", "beam_size must be in [1, 6]",
    )


def test_unknown_output_and_version(triton) -> None:
    expect_error(
        lambda: triton.infer(TRANSLATOR, [text_input("TEXT", ["one"])],
                             outputs=[grpcclient.InferRequestedOutput("LOGITS")]),
        "INVALID_ARGUMENT", "unexpected inference output 'LOGITS'",
    )
    expect_error(lambda: triton.infer(TRANSLATOR, [text_input("TEXT", ["one"])],
                                      model_version="x"), "INVALID_ARGUMENT", "'x'")
    expect_error(lambda: triton.infer("nope", [text_input("TEXT", ["one"])]), "NOT_FOUND",
                 "Request for unknown model: 'nope' is not found")


def _chunk() -> grpcclient.InferInput:
    tensor = grpcclient.InferInput("INPUT", [2, 1], "FP32")
    tensor.set_data_from_numpy(np.array([[340.0], [341.0]], np.float32))
    return tensor


def test_sequence_without_start(triton) -> None:
    expect_error(lambda: triton.infer(FORECASTER, [_chunk()], sequence_id=987654),
                 "INVALID_ARGUMENT", "sequence 987654", "must specify the START flag")


def test_request_for_an_ended_sequence(triton) -> None:
    triton.infer(FORECASTER, [_chunk()], sequence_id=777, sequence_start=True)
    triton.infer(FORECASTER, [_chunk()], sequence_id=777, sequence_end=True)
    expect_error(lambda: triton.infer(FORECASTER, [_chunk()], sequence_id=777),
                 "INVALID_ARGUMENT", "sequence 777", "START flag")


def test_sequence_model_without_sequence_id(triton) -> None:
    expect_error(lambda: triton.infer(FORECASTER, [_chunk()]), "INVALID_ARGUMENT",
                 "correlation ID")
