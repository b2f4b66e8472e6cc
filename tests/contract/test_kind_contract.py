"""The contract every model kind keeps on both APIs (seqserve.v1 and KServe v2),
parametrised over the kind registry: unknown model NOT_FOUND, wrong kind and empty
or over-limit input INVALID_ARGUMENT, a passed deadline DEADLINE_EXCEEDED, a
cancelled call CANCELLED, and after each the server still answers a valid request.

A kind added to server/kinds/ fails test_every_registered_kind_has_a_case until it
brings its case here. One shared server (tests/support/kind_repository.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.kinds import KINDS
from seqserve.server.repository.config import load_config
from tests.support.kind_repository import CAPTIONER, FORECASTER, TAGGER, TRANSLATOR
from tests.support.server_process import ServerProcess

Tensor = kpb.ModelInferRequest.InferInputTensor
Contents = kpb.InferTensorContents
_sequence_ids = itertools.count(10_000)


@dataclass(frozen=True)
class Limits:
    count: int
    """The most items (sentences, images, chunk steps) one request may carry."""
    name: str
    """That limit's config name: both APIs' refusals name it."""
    side: int = 0
    """Captioners: the image side (tensors are [3, side, side])."""


# ---- seqserve.v1 requests: (model, size, session) -> (rpc name, request) ---------------
def _translate(model: str, n: int, session: str) -> tuple[str, Any]:
    return "Translate", pb.TranslateRequest(model=model, sentences=["four"] * n)


def _tag(model: str, n: int, session: str) -> tuple[str, Any]:
    return "Tag", pb.TagRequest(model=model, texts=["bir kitap"] * n)


def _caption(model: str, n: int, session: str, side: int = 48) -> tuple[str, Any]:
    tensor = pb.ImageTensor(shape=[3, side, side], dtype="float32",
                            data=np.zeros((3, side, side), np.float32).tobytes())
    images = [pb.CaptionImage(tensor=tensor) for _ in range(n)]
    return "Caption", pb.CaptionRequest(model=model, images=images,
                                        options=pb.DecodingOptions(beam_size=1, max_length=4))


def _predict_step(model: str, n: int, session: str) -> tuple[str, Any]:
    chunk = pb.Chunk(values=pb.FloatValues(values=[315.0] * n))
    return "PredictStep", pb.PredictStepRequest(model=model, session_id=session, chunk=chunk)


# ---- KServe requests: (model, size) -> ModelInferRequest --------------------------------
def _text_rows(model: str, n: int, text: str, **params: kpb.InferParameter) -> Any:
    tensor = Tensor(name="TEXT", datatype="BYTES", shape=[n, 1],
                    contents=Contents(bytes_contents=[text.encode()] * n))
    return kpb.ModelInferRequest(model_name=model, inputs=[tensor], parameters=params)


def _k_translate(model: str, n: int) -> Any:
    # n = 0: the protocol has no empty batch; the empty input is a blank sentence.
    return _text_rows(model, max(n, 1), "" if n == 0 else "four",
                      beam_size=kpb.InferParameter(int64_param=1))


def _k_tag(model: str, n: int) -> Any:
    return _text_rows(model, max(n, 1), "" if n == 0 else "bir kitap")


def _k_caption(model: str, n: int, side: int = 48) -> Any:
    if n == 0:  # an image with no bytes
        tensor = Tensor(name="IMAGE", datatype="BYTES", shape=[1, 1],
                        contents=Contents(bytes_contents=[b""]))
    else:
        tensor = Tensor(name="PIXELS", datatype="FP32", shape=[n, 3, side, side],
                        contents=Contents(fp32_contents=[0.0] * (n * 3 * side * side)))
    params = {"beam_size": kpb.InferParameter(int64_param=1),
              "max_length": kpb.InferParameter(int64_param=4)}
    return kpb.ModelInferRequest(model_name=model, inputs=[tensor], parameters=params)


def _k_predict(model: str, n: int) -> Any:
    tensor = Tensor(name="INPUT", datatype="FP32", shape=[n, 1],
                    contents=Contents(fp32_contents=[315.0] * n))
    params = {"sequence_id": kpb.InferParameter(int64_param=next(_sequence_ids)),
              "sequence_start": kpb.InferParameter(bool_param=True),
              "sequence_end": kpb.InferParameter(bool_param=True)}
    return kpb.ModelInferRequest(model_name=model, inputs=[tensor], parameters=params)


@dataclass(frozen=True)
class KindCase:
    model: str
    """A model of this kind in the shared repository."""
    other: str
    """A model of another kind, whose KServe signature refuses this kind's inputs."""
    domain: Callable[..., tuple[str, Any]]
    kserve: Callable[..., Any]
    limit: Callable[[Any], Limits]
    """The model's config -> the count its requests may carry."""


CASES: dict[str, KindCase] = {
    "seq2seq": KindCase(TRANSLATOR, CAPTIONER, _translate, _k_translate,
                        lambda c: Limits(c.limits.max_sentences, "max_sentences")),
    "tagger": KindCase(TAGGER, CAPTIONER, _tag, _k_tag,
                       lambda c: Limits(c.limits.max_sentences, "max_sentences")),
    "captioner": KindCase(CAPTIONER, TRANSLATOR, _caption, _k_caption,
                          lambda c: Limits(c.limits.max_images, "max_images",
                                           c.preprocessing.height)),
    "streaming": KindCase(FORECASTER, TRANSLATOR, _predict_step, _k_predict,
                          lambda c: Limits(c.limits.max_chunk_steps, "max_chunk_steps")),
}
KIND_NAMES = list(KINDS)


def test_every_registered_kind_has_a_case() -> None:
    assert set(CASES) == set(KINDS)


@pytest.fixture(scope="module")
def channel(kserve_server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(kserve_server.address) as opened:
        yield opened


@pytest.fixture(scope="module")
def limits(kserve_repository: Path) -> dict[str, Limits]:
    return {kind: case.limit(load_config(kserve_repository / case.model / "1"))
            for kind, case in CASES.items()}


class Api:
    """One API's view of a kind's case: build a request, send it, read the status."""

    def __init__(self, name: str, channel: grpc.Channel, case: KindCase, limits: Limits):
        self.name, self.case, self.limits = name, case, limits
        self.domain = pb_grpc.SeqServeStub(channel)
        self.kserve = kpb_grpc.GRPCInferenceServiceStub(channel)

    session = ""
    """Streaming: the one session this test's steps go to (closed when it ends)."""
    token = ""
    """The session_token its open returned, sent with each of its steps."""

    def _session(self, model: str) -> str:
        if self.case.domain is not _predict_step or model != self.case.model:
            return "none"
        if not self.session:
            opened = self.domain.OpenSession(pb.OpenSessionRequest(model=model), timeout=30)
            self.session, self.token = opened.session_id, opened.session_token
        return self.session

    def close(self) -> None:
        if self.session:
            self.domain.CloseSession(
                pb.SessionRef(model=self.case.model, session_id=self.session,
                              session_token=self.token), timeout=30
            )

    def call(self, model: str, n: int) -> tuple[Callable[..., Any], Any]:
        """The stub method and request carrying `n` items for `model`."""
        extra = {"side": self.limits.side} if self.limits.side else {}
        if self.name == "kserve":
            return self.kserve.ModelInfer, self.case.kserve(model, n, **extra)
        rpc, request = self.case.domain(model, n, self._session(model), **extra)
        if rpc == "PredictStep" and request.session_id == self.session:
            request.session_token = self.token
        return getattr(self.domain, rpc), request

    def status(self, model: str, n: int, timeout: float = 60) -> tuple[grpc.StatusCode, str]:
        method, request = self.call(model, n)
        try:
            method(request, timeout=timeout)
        except grpc.RpcError as error:
            return error.code(), error.details() or ""
        return grpc.StatusCode.OK, ""


@pytest.fixture(params=["seqserve.v1", "kserve"])
def api_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=KIND_NAMES)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def api(
    api_name: str, kind: str, channel: grpc.Channel, limits: dict[str, Limits]
) -> Iterator[Api]:
    api = Api(api_name, channel, CASES[kind], limits[kind])
    yield api
    # Whatever the case did, the kind's model still answers a valid request.
    assert api.status(api.case.model, 1) == (grpc.StatusCode.OK, "")
    api.close()


def test_unknown_model_is_not_found(api: Api) -> None:
    assert api.status("no-such-model", 1)[0] == grpc.StatusCode.NOT_FOUND


def test_wrong_kind_is_invalid_argument(api: Api) -> None:
    code, message = api.status(api.case.other, 1)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, message
    if api.name == "seqserve.v1":  # the one wrong-kind message (KindSpec.check)
        other = next(k for k, c in CASES.items() if c.model == api.case.other)
        assert f"is a {other} model" in message, message


def test_empty_input_is_invalid_argument(api: Api) -> None:
    code, message = api.status(api.case.model, 0)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, message


def test_over_limit_input_is_invalid_argument(api: Api) -> None:
    code, message = api.status(api.case.model, api.limits.count + 1)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, message
    assert f"{api.limits.name}={api.limits.count}" in message, message


ATTEMPTS = 5
"""Tiny models may answer within the deadline or before the cancel lands: each
attempt must end OK or with the case's code."""


def test_passed_deadline_is_deadline_exceeded(api: Api) -> None:
    # Deadlines shorter than a round trip. A tiny model may still answer before the
    # client's timer fires (and a streaming step carries no deadline into the engine),
    # so OK is allowed; no other code is. That the engine drops work whose deadline
    # passed is tests/integration/test_faults.py's.
    codes = [api.status(api.case.model, 1, timeout=1e-6)[0] for _ in range(ATTEMPTS)]
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}, codes


def test_cancelled_call_is_cancelled(api: Api) -> None:
    cancelled = 0
    for _ in range(ATTEMPTS):
        method, request = api.call(api.case.model, 1)
        future = method.future(request, timeout=60)
        if future.cancel():
            cancelled += 1
            assert future.cancelled() and future.code() == grpc.StatusCode.CANCELLED
            with pytest.raises(grpc.FutureCancelledError):
                future.result()
        else:
            assert future.code() == grpc.StatusCode.OK, future.details()
    assert cancelled
