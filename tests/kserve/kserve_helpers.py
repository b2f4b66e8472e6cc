"""Helpers for the KServe v2 tests: tritonclient inputs, raw requests, error checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException


def text_input(name: str, texts: list[str]) -> grpcclient.InferInput:
    data = np.array([[t.encode()] for t in texts], dtype=object)
    tensor = grpcclient.InferInput(name, list(data.shape), "BYTES")
    tensor.set_data_from_numpy(data)
    return tensor


def decoded(array: np.ndarray) -> list[list[str]]:
    return [[item.decode() for item in row] for row in array]


@contextmanager
def raw_stub(address: str) -> Iterator[service_pb2_grpc.GRPCInferenceServiceStub]:
    """tritonclient's own generated stub, for requests its high-level API cannot build."""
    channel = grpc.insecure_channel(address)
    try:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)
    finally:
        channel.close()


def bytes_request(model: str, texts: list[bytes], **extra: Any) -> service_pb2.ModelInferRequest:
    """A TEXT [B, 1] request with typed contents."""
    tensor = service_pb2.ModelInferRequest.InferInputTensor(
        name="TEXT", datatype="BYTES", shape=[len(texts), 1],
        contents=service_pb2.InferTensorContents(bytes_contents=texts),
    )
    return service_pb2.ModelInferRequest(model_name=model, inputs=[tensor], **extra)


def expect_error(call: Callable[[], object], status: str, *fragments: str) -> str:
    """Run `call`; it must fail with `status` (e.g. "INVALID_ARGUMENT") naming `fragments`."""
    with pytest.raises((InferenceServerException, grpc.RpcError)) as caught:
        call()
    error = caught.value
    if isinstance(error, InferenceServerException):
        code, message = str(error.status()), error.message()
    else:
        code, message = str(error.code()), error.details()
    assert code.endswith(status), f"{code}: {message}"
    for fragment in fragments:
        assert fragment in message, message
    return message
