"""Tensors that used to end as INTERNAL (a KeyError, an OverflowError, a reshape
error) are INVALID_ARGUMENT naming the input, and the server keeps serving."""

from __future__ import annotations

import pytest
from tritonclient.grpc import service_pb2

from tests.kserve.conftest import TRANSLATOR
from tests.kserve.kserve_helpers import expect_error, raw_stub

Tensor = service_pb2.ModelInferRequest.InferInputTensor
Contents = service_pb2.InferTensorContents


def _infer(address: str, tensor: Tensor) -> object:
    with raw_stub(address) as stub:
        return stub.ModelInfer(
            service_pb2.ModelInferRequest(model_name=TRANSLATOR, inputs=[tensor]), timeout=30
        )


def _serves(address: str) -> None:
    with raw_stub(address) as stub:
        assert stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=30).live


def test_fp16_without_raw_contents(kserve_server) -> None:
    tensor = Tensor(name="HALF", datatype="FP16", shape=[2], contents=Contents())
    expect_error(lambda: _infer(kserve_server.address, tensor), "INVALID_ARGUMENT",
                 "'HALF'", "raw_input_contents")
    _serves(kserve_server.address)


@pytest.mark.parametrize(("datatype", "field", "value"), [
    ("INT8", "int_contents", 300), ("INT16", "int_contents", -40_000),
    ("UINT8", "uint_contents", 256), ("UINT16", "uint_contents", 70_000),
])
def test_typed_value_out_of_range(kserve_server, datatype, field, value) -> None:
    tensor = Tensor(name="SMALL", datatype=datatype, shape=[2],
                    contents=Contents(**{field: [1, value]}))
    expect_error(lambda: _infer(kserve_server.address, tensor), "INVALID_ARGUMENT",
                 "'SMALL'", "element 1", str(value))
    _serves(kserve_server.address)


def test_shape_whose_element_count_overflows(kserve_server) -> None:
    # 2**32 * 2**32 wraps an int64 to 0, which the empty contents would "match".
    tensor = Tensor(name="HUGE", datatype="INT32", shape=[2**32, 2**32], contents=Contents())
    expect_error(lambda: _infer(kserve_server.address, tensor), "INVALID_ARGUMENT", "'HUGE'")
    _serves(kserve_server.address)
