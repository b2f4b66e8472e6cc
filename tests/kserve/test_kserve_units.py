"""Pure functions of the KServe v2 layer: tensors, parameters, statistics, validation."""

from __future__ import annotations

import numpy as np
import pytest

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.api.kserve import tensors
from seqserve.server.api.kserve.kinds import Signature, TensorSpec
from seqserve.server.api.kserve.params import Parameters, parameters_dict
from seqserve.server.api.kserve.stats import RequestTimer, Statistics
from seqserve.server.api.kserve.validate import check_inputs
from seqserve.server.errors import InvalidArgumentError

Input = pb.ModelInferRequest.InferInputTensor


def test_bytes_framing_round_trips() -> None:
    items = [b"", b"a", "é".encode(), b"x" * 300]
    assert tensors.unpack_bytes(tensors.pack_bytes(items), 4, "T") == items
    with pytest.raises(InvalidArgumentError, match="more data than available"):
        tensors.unpack_bytes(b"\x05\x00\x00\x00ab", 1, "T")
    with pytest.raises(InvalidArgumentError, match="truncated length prefix"):
        tensors.unpack_bytes(b"\x01\x00", 1, "T")


@pytest.mark.parametrize(("datatype", "field", "values"), [
    ("INT32", "int_contents", [1, -2, 3, 4]),
    ("UINT8", "uint_contents", [0, 255, 7, 8]),
    ("INT64", "int64_contents", [2**40, -1, 0, 5]),
    ("FP32", "fp32_contents", [0.5, -1.25, 2.0, 3.0]),
    ("FP64", "fp64_contents", [0.1, 0.2, 0.3, 0.4]),
    ("BOOL", "bool_contents", [True, False, True, True]),
])
def test_typed_and_raw_contents_decode_alike(datatype: str, field: str, values: list) -> None:
    typed = Input(name="X", datatype=datatype, shape=[2, 2],
                  contents=pb.InferTensorContents(**{field: values}))
    from_typed = tensors.decode_input(typed, None, "m")
    raw = np.asarray(values, dtype=tensors.NUMPY_DTYPES[datatype]).tobytes()
    from_raw = tensors.decode_input(Input(name="X", datatype=datatype, shape=[2, 2]), raw, "m")
    np.testing.assert_array_equal(from_typed.data, from_raw.data)
    assert from_raw.shape == (2, 2)


def test_raw_count_must_match_the_inputs() -> None:
    request = pb.ModelInferRequest(inputs=[Input(name="A", datatype="INT32", shape=[1])],
                                   raw_input_contents=[b"\0" * 4, b"\0" * 4])
    with pytest.raises(InvalidArgumentError, match="one per input"):
        tensors.decode_inputs(request, "m")


def test_negative_dimension_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="negative dimension"):
        tensors.decode_input(Input(name="A", datatype="INT32", shape=[-1]), b"", "m")


def test_parameters_accept_every_exact_type() -> None:
    params = Parameters(parameters_dict({
        "a": pb.InferParameter(int64_param=3), "b": pb.InferParameter(double_param=4.0),
        "c": pb.InferParameter(string_param="5"), "d": pb.InferParameter(bool_param=True),
        "sequence_id": pb.InferParameter(uint64_param=2**63 + 1),
    }))
    assert (params.int("a"), params.int("b"), params.int("c")) == (3, 4, 5)
    assert params.bool("d") is True and params.int("missing") is None
    assert params.sequence_id() == str(2**63 + 1)
    with pytest.raises(InvalidArgumentError, match="'d' must be an integer"):
        params.int("d")
    assert Parameters({"sequence_id": 0}).sequence_id() is None
    assert Parameters({"sequence_id": "abc"}).sequence_id() == "abc"


def test_statistics_parts_add_up_to_the_whole() -> None:
    stats, timer = Statistics(), RequestTimer()
    for _ in range(3):
        timer.mark()
    stats.success("m", 1, timer, rows=4)
    stats.failure("m", 1, RequestTimer())
    c = stats.get("m", 1)
    parts = (c.queue, c.compute_input, c.compute_infer, c.compute_output)
    assert all(p.count == 1 for p in parts) and sum(p.ns for p in parts) == c.success.ns
    assert (c.fail.count, c.inference_count, c.execution_count) == (1, 4, 1)


def test_validation_accepts_a_flat_string_batch_and_checks_the_batch_limit() -> None:
    signature = Signature(inputs=(TensorSpec("TEXT", "BYTES", (1,)),), outputs=(),
                          max_batch_size=2)
    flat = tensors.Tensor("TEXT", "BYTES", np.array([b"a", b"b"], dtype=object))
    check_inputs(signature, {"TEXT": flat}, "m")
    three = tensors.Tensor("TEXT", "BYTES", np.array([[b"a"], [b"b"], [b"c"]], dtype=object))
    with pytest.raises(InvalidArgumentError, match="batch-size must be <= 2"):
        check_inputs(signature, {"TEXT": three}, "m")
