"""Every RPC of both services, called with a fuzzed request; the status is what counts.

A call passes when it ends in time with any status but INTERNAL or UNKNOWN
(those mean an unhandled server error) or DEADLINE_EXCEEDED (a hang: the
deadline is generous, far above any valid request of the tiny models).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import grpc
from hypothesis import strategies as st

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.fuzz.messages import MODELS, messages
from tests.fuzz.near_valid import NEAR_VALID, chunks, model_infer

DEADLINE_SECONDS = 30.0
BAD_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
# Repository control is fuzzed on the spare translator only: unloading or
# reloading the models the other RPCs use would only measure reload time.
SPARE = "numbers-b"


@dataclass(frozen=True)
class Rpc:
    service: str
    method: str
    request: type
    request_streaming: bool = False
    response_streaming: bool = False


def _rpcs(service: Any, module: Any, full: str) -> list[Rpc]:
    out = []
    for method in service.methods:
        request = getattr(module, method.input_type.name)
        out.append(Rpc(full, method.name, request, method.client_streaming,
                       method.server_streaming))
    return out


RPCS = (
    _rpcs(pb.DESCRIPTOR.services_by_name["SeqServe"], pb, "seqserve.v1.SeqServe")
    + _rpcs(kpb.DESCRIPTOR.services_by_name["GRPCInferenceService"], kpb,
            "inference.GRPCInferenceService")
)


def _predict_stream() -> st.SearchStrategy[list[Any]]:
    """A well-formed opening on the forecaster, then fuzzed chunks (and sometimes a 2nd open)."""
    opening = messages(pb.OpenSessionRequest).map(
        lambda o: pb.PredictRequest(open=pb.OpenSessionRequest(
            model="co2", session_id=o.session_id if len(o.session_id) < 200 else "")))
    chunk = st.one_of(messages(pb.PredictRequest), chunks())
    # keep=False: kept sessions would fill the forecaster's max_sessions and leave
    # later examples nothing but RESOURCE_EXHAUSTED.
    return st.tuples(opening, st.lists(chunk, max_size=4)).map(
        lambda pair: [pair[0], *pair[1]])


def requests_for(rpc: Rpc) -> st.SearchStrategy[Any]:
    """Half random messages, half near-valid ones where the RPC has a model input."""
    single = messages(rpc.request)
    if rpc.method in NEAR_VALID:
        single = st.one_of(NEAR_VALID[rpc.method](), single)
    if rpc.method == "Predict":
        return st.one_of(st.lists(single, max_size=4), _predict_stream())
    if rpc.method == "ModelStreamInfer":
        return st.lists(st.one_of(model_infer(), single), max_size=3)
    if rpc.request_streaming:
        return st.lists(single, max_size=4)
    return single


def _protect(rpc: Rpc, request: Any) -> Any:
    if rpc.method in ("RepositoryModelLoad", "RepositoryModelUnload") and \
            request.model_name in MODELS:
        request.model_name = SPARE
    return request


def inner_codes(response: Any) -> list[str]:
    """Statuses carried inside a stream's responses: PredictMany step errors and
    ModelStreamInfer error messages ("[CODE] message")."""
    codes = [grpc.StatusCode(_CODES[r.error.code]).name if r.error.code in _CODES else
             f"code-{r.error.code}" for r in getattr(response, "results", ())
             if r.HasField("error")]
    message = getattr(response, "error_message", "")
    if message:
        codes.append(message[1:message.index("]")] if message.startswith("[") and "]" in
                     message else "UNLABELLED")
    return codes


_CODES = {code.value[0]: code.value for code in grpc.StatusCode}
_BAD_NAMES = {code.name for code in BAD_CODES}


class Caller:
    def __init__(self, channel: grpc.Channel) -> None:
        self.stubs = {
            "seqserve.v1.SeqServe": pb_grpc.SeqServeStub(channel),
            "inference.GRPCInferenceService": kpb_grpc.GRPCInferenceServiceStub(channel),
        }
        self.histogram: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        """One message per (RPC, RESOURCE_EXHAUSTED), to tell limits apart in the report."""

    def call(self, rpc: Rpc, request: Any) -> tuple[grpc.StatusCode, str]:
        """The call's final status and details (OK, ''); responses are drained."""
        method = getattr(self.stubs[rpc.service], rpc.method)
        payload = [_protect(rpc, r) for r in request] if rpc.request_streaming else \
            _protect(rpc, request)
        try:
            if rpc.request_streaming:
                result = method(iter(payload), timeout=DEADLINE_SECONDS)
            else:
                result = method(payload, timeout=DEADLINE_SECONDS)
            responses = list(result) if rpc.response_streaming else [result]
            inner = [code for response in responses for code in inner_codes(response)]
            for name in inner:
                self.histogram[f"{rpc.method}:in-stream {name}"] += 1
            bad = [name for name in inner if name in _BAD_NAMES or name == "UNLABELLED"]
            if bad:
                self._count(rpc, grpc.StatusCode.INTERNAL)
                return grpc.StatusCode.INTERNAL, f"in-stream statuses {bad}: {responses!r:.400}"
            code, details = grpc.StatusCode.OK, ""
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
        self._count(rpc, code)
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            self.examples.setdefault(f"{rpc.method}:{code.name}", details[:160])
        return code, details

    def _count(self, rpc: Rpc, code: grpc.StatusCode) -> None:
        self.histogram[code.name] += 1
        self.histogram[f"{rpc.method}:{code.name}"] += 1


def good_answers(channel: grpc.Channel) -> tuple[str, bytes]:
    """One translation on each API: compared before and after fuzzing."""
    seqserve = pb_grpc.SeqServeStub(channel)
    text = seqserve.Translate(pb.TranslateRequest(
        model="numbers", sentences=["twelve"], options=pb.DecodingOptions(beam_size=1)),
        timeout=DEADLINE_SECONDS).translations[0].hypotheses[0].text
    tensor = kpb.ModelInferRequest.InferInputTensor(name="TEXT", datatype="BYTES", shape=[1, 1])
    tensor.contents.bytes_contents.append(b"twelve")
    request = kpb.ModelInferRequest(model_name="numbers", inputs=[tensor])
    request.parameters["beam_size"].int64_param = 1
    reply = kpb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(
        request, timeout=DEADLINE_SECONDS)
    return text, reply.raw_output_contents[0] if reply.raw_output_contents else \
        reply.outputs[0].contents.bytes_contents[0]


def format_histogram(histogram: Counter[str]) -> str:
    totals = {k: v for k, v in histogram.items() if ":" not in k}
    lines = [f"{sum(totals.values())} calls"]
    lines += [f"  {name:<20} {count:>7}" for name, count in sorted(totals.items(),
                                                                   key=lambda kv: -kv[1])]
    per_rpc: dict[str, list[str]] = {}
    for key, count in sorted(histogram.items()):
        if ":" in key:
            method, code = key.split(":", 1)
            per_rpc.setdefault(method, []).append(f"{code} {count}")
    lines += ["per RPC:"] + [f"  {m}: {', '.join(c)}" for m, c in per_rpc.items()]
    return "\n".join(lines)
