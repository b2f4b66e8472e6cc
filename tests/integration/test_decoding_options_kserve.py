"""Decoding options as KServe request parameters, and ModelStreamInfer partials."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tritonclient.grpc import service_pb2

from tests.kserve.kserve_helpers import bytes_request, raw_stub
from tests.support.server_process import ServerProcess

SOURCE = b"three thousand four hundred and fifty-six"


def param(value: object) -> service_pb2.InferParameter:
    if isinstance(value, bool):
        return service_pb2.InferParameter(bool_param=value)
    if isinstance(value, int):
        return service_pb2.InferParameter(int64_param=value)
    if isinstance(value, float):
        return service_pb2.InferParameter(double_param=value)
    return service_pb2.InferParameter(string_param=str(value))


def infer_request(texts: list[bytes], **params: object) -> service_pb2.ModelInferRequest:
    return bytes_request("numbers", texts, id="r1",
                         parameters={k: param(v) for k, v in params.items()})


def hypotheses(response: service_pb2.ModelInferResponse) -> list[str]:
    names = [o.name for o in response.outputs]
    raw = response.raw_output_contents[names.index("HYPOTHESES")]
    out, at = [], 0
    while at < len(raw):
        size = int.from_bytes(raw[at : at + 4], "little")
        out.append(raw[at + 4 : at + 4 + size].decode())
        at += 4 + size
    return out


@pytest.fixture(scope="module")
def stub(server: ServerProcess):
    with raw_stub(server.address) as stub:
        yield stub


def test_parameters_reach_the_engine(stub) -> None:
    prefixed = stub.ModelInfer(infer_request([SOURCE, b"twelve"],
                                             target_prefix=json.dumps(["cinq", "vingt"])),
                               timeout=60)
    texts = hypotheses(prefixed)
    assert texts[0].startswith("cinq") and texts[1].startswith("vingt")
    options = {"sampling_topk": 0, "seed": 21, "n_best": 2, "sampling_temperature": 2.0,
               "no_repeat_ngram_size": 1, "suppress_sequences": "mille"}
    a = stub.ModelInfer(infer_request([SOURCE], **options), timeout=60)
    b = stub.ModelInfer(infer_request([SOURCE], **options), timeout=60)
    assert hypotheses(a) == hypotheses(b) and len(hypotheses(a)) == 2
    assert "ATTENTION" not in [o.name for o in a.outputs]


def test_return_attention_adds_the_attention_tensor(stub) -> None:
    response = stub.ModelInfer(infer_request([SOURCE, b"two"], return_attention=True,
                                             beam_size=2, n_best=2), timeout=60)
    names = [o.name for o in response.outputs]
    shape = list(response.outputs[names.index("ATTENTION")].shape)
    assert shape[:2] == [2, 2]
    weights = np.frombuffer(response.raw_output_contents[names.index("ATTENTION")],
                            dtype="<f4").reshape(shape)
    sums = weights.sum(axis=3)
    assert np.all((np.abs(sums - 1) < 1e-3) | (sums == 0))  # a distribution or padding


@pytest.mark.parametrize(("params", "mentions"), [
    ({"sampling_topp": 2.0}, "sampling_topp"),
    ({"no_repeat_ngram_size": 1000}, "max_ngram_size"),
    ({"target_prefix": "[1, 2]"}, "JSON list of strings"),
])
def test_bad_parameter_is_invalid_argument(stub, params: dict, mentions: str) -> None:
    import grpc

    with pytest.raises(grpc.RpcError) as raised:
        stub.ModelInfer(infer_request([SOURCE], **params), timeout=60)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert mentions in raised.value.details()


@pytest.mark.parametrize("empty_final", [False, True])
def test_stream_partials_then_the_full_result(stub, empty_final: bool) -> None:
    options = {"stream_partials": True, "target_prefix": "deux", "beam_size": 3,
               "repetition_penalty": 1.5}
    if empty_final:
        options["triton_enable_empty_final_response"] = True
    unary = hypotheses(stub.ModelInfer(infer_request([SOURCE], **{
        k: v for k, v in options.items() if k not in ("stream_partials",
                                                      "triton_enable_empty_final_response")
    }), timeout=60))
    responses = list(stub.ModelStreamInfer(iter([infer_request([SOURCE], **options)]),
                                           timeout=60))
    assert all(not r.error_message for r in responses), responses[0].error_message
    finals = [r.infer_response.parameters["triton_final_response"].bool_param
              for r in responses]
    assert finals[-1] and not any(finals[:-1])
    assert all(r.infer_response.id == "r1" for r in responses)
    full = responses[-2] if empty_final else responses[-1]
    assert hypotheses(full.infer_response) == unary
    if empty_final:
        assert not responses[-1].infer_response.outputs
    for partial in responses[: -2 if empty_final else -1]:
        assert hypotheses(partial.infer_response)[0].startswith("deux")


def test_stream_partials_bad_option_is_an_error_response(stub) -> None:
    responses = list(stub.ModelStreamInfer(iter([infer_request(
        [SOURCE], stream_partials=True, sampling_topk=-1)]), timeout=60))
    assert len(responses) == 1 and "INVALID_ARGUMENT" in responses[0].error_message
    assert "sampling_topk" in responses[0].error_message
