"""Request parameters and versions a client can get wrong: an unknown parameter (a
typo) is refused listing the accepted ones, Triton's own parameters are accepted,
and integers such as "²", "--1" or 5,000 digits are INVALID_ARGUMENT, not INTERNAL."""

from __future__ import annotations

import pytest
from tritonclient.grpc import service_pb2

from tests.kserve.conftest import TRANSLATOR
from tests.kserve.kserve_helpers import bytes_request, decoded, expect_error, raw_stub, text_input

Param = service_pb2.InferParameter
BAD_INTEGERS = ["²", "--1", "9" * 5000, "1_000", " "]


def _infer(address: str, **parameters: Param) -> object:
    request = bytes_request(TRANSLATOR, [b"four"], parameters=parameters)
    with raw_stub(address) as stub:
        return stub.ModelInfer(request, timeout=30)


def test_a_misspelt_parameter_is_refused_listing_the_accepted_ones(kserve_server) -> None:
    message = expect_error(
        lambda: _infer(kserve_server.address, beamsize=Param(int64_param=2)),
        "INVALID_ARGUMENT", "'beamsize'", "beam_size", "n_best",
    )
    assert TRANSLATOR in message


def test_triton_standard_parameters_are_accepted(triton, kserve_server) -> None:
    result = triton.infer(
        TRANSLATOR, [text_input("TEXT", ["four"])], priority=1, timeout=30_000_000,
        parameters={"beam_size": 1},
    )
    assert len(decoded(result.as_numpy("HYPOTHESES"))) == 1
    # What tritonclient reserves (and so sets itself), sent as a raw client would.
    _infer(kserve_server.address, binary_data_output=Param(bool_param=True),
           triton_enable_empty_final_response=Param(bool_param=False),
           sequence_id=Param(int64_param=0), priority=Param(uint64_param=1))


@pytest.mark.parametrize("text", BAD_INTEGERS, ids=["superscript", "double-minus", "5000-digits",
                                                    "underscore", "blank"])
def test_a_malformed_integer_parameter_is_invalid_argument(kserve_server, text) -> None:
    message = expect_error(
        lambda: _infer(kserve_server.address, beam_size=Param(string_param=text)),
        "INVALID_ARGUMENT", "beam_size",
    )
    assert len(message) < 1000


@pytest.mark.parametrize("text", [*BAD_INTEGERS[:3], "0", "-1"],
                         ids=["superscript", "double-minus", "5000-digits", "zero", "negative"])
def test_a_malformed_version_is_invalid_argument(kserve_server, text) -> None:
    request = bytes_request(TRANSLATOR, [b"four"], model_version=text)
    with raw_stub(kserve_server.address) as stub:
        message = expect_error(lambda: stub.ModelInfer(request, timeout=30), "INVALID_ARGUMENT",
                               "version")
        expect_error(
            lambda: stub.ModelReady(service_pb2.ModelReadyRequest(name=TRANSLATOR, version=text),
                                    timeout=30),
            "INVALID_ARGUMENT", "version",
        )
    assert len(message) < 1000
