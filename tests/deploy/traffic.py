"""A few requests of every kind, good and bad, so every request series exists."""

from __future__ import annotations

import grpc
import pytest

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc

TRANSLATOR, TAGGER, FORECASTER = "numbers", "pos", "co2"
TIMEOUT = 60.0


def _fails(call, code: grpc.StatusCode) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() is code, caught.value.details()


def _chunk(*values: float) -> pb.Chunk:
    return pb.Chunk(values=pb.FloatValues(values=list(values)))


def send_traffic(address: str) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.SeqServeStub(channel)
        kserve = kpb_grpc.GRPCInferenceServiceStub(channel)
        translate = pb.TranslateRequest(model=TRANSLATOR, sentences=["twenty one", "five"])
        stub.Translate(translate, timeout=TIMEOUT)
        list(stub.TranslateStream(translate, timeout=TIMEOUT))
        too_wide = pb.TranslateRequest(model=TRANSLATOR, sentences=["one"],
                                       options=pb.DecodingOptions(beam_size=99))
        _fails(lambda: stub.Translate(too_wide, timeout=TIMEOUT),
               grpc.StatusCode.INVALID_ARGUMENT)
        _fails(lambda: stub.Translate(pb.TranslateRequest(model="no-such", sentences=["x"]),
                                      timeout=TIMEOUT), grpc.StatusCode.NOT_FOUND)
        stub.Tag(pb.TagRequest(model=TAGGER, texts=["the cat sat"]), timeout=TIMEOUT)
        # A Predict stream: open, three chunks, close (sessions, ticks, inter-step).
        opened = pb.PredictRequest(open=pb.OpenSessionRequest(model=FORECASTER))
        chunks = [pb.PredictRequest(chunk=_chunk(315.0 + i, 316.0)) for i in range(3)]
        assert len(list(stub.Predict(iter([opened, *chunks]), timeout=TIMEOUT))) == 4
        # PredictMany: one good step (with the token the open returned) and one naming
        # an unknown model.
        info = stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER), timeout=TIMEOUT)
        steps = [
            pb.PredictStepRequest(model=FORECASTER, session_id=info.session_id,
                                  session_token=info.session_token, chunk=_chunk(317.0)),
            pb.PredictStepRequest(model="no-such", session_id="x", chunk=_chunk(1.0)),
        ]
        (reply,) = stub.PredictMany(iter([pb.PredictManyRequest(request_id=1, steps=steps)]),
                                    timeout=TIMEOUT)
        assert reply.results[0].HasField("response")
        assert reply.results[1].error.code == grpc.StatusCode.NOT_FOUND.value[0]
        stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=info.session_id,
                                        session_token=info.session_token), timeout=TIMEOUT)
        # KServe v2: a translation, and an unknown model.
        tensor = kpb.ModelInferRequest.InferInputTensor(
            name="TEXT", datatype="BYTES", shape=[1, 1],
            contents=kpb.InferTensorContents(bytes_contents=[b"seven"]),
        )
        kserve.ModelInfer(kpb.ModelInferRequest(model_name=TRANSLATOR, inputs=[tensor]),
                          timeout=TIMEOUT)
        _fails(lambda: kserve.ModelInfer(kpb.ModelInferRequest(model_name="no-such",
                                                               inputs=[tensor]),
                                         timeout=TIMEOUT), grpc.StatusCode.NOT_FOUND)
