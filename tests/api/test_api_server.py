"""The SeqServe service end to end over real gRPC (fake engine behind it)."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api.errors import INTERNAL_MESSAGE
from seqserve.server.metrics import REGISTRY
from tests.api.api_fakes import default_manager
from tests.api.grpc_harness import ServerThread
from tests.support.polling import wait_until


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> pb_grpc.SeqServeStub:
    return pb_grpc.SeqServeStub(channel)


def translate(stub: pb_grpc.SeqServeStub, *sentences: str, **request: object) -> object:
    request.setdefault("model", "en-fr")
    return stub.Translate(pb.TranslateRequest(sentences=list(sentences), **request), timeout=5)


def rpc_error(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        fn(*args, **kwargs)
    return caught.value


# ---------------------------------------------------------------- Translate


def test_translate_returns_one_result_per_sentence_with_model_and_version(stub, server):
    options = pb.DecodingOptions(beam_size=3, n_best=2)
    response = translate(stub, "hello world", "good night", options=options)
    assert (response.model, response.version) == ("en-fr", 2)
    assert [t.hypotheses[0].text for t in response.translations] == ["HELLO WORLD", "GOOD NIGHT"]
    first = response.translations[0]
    assert len(first.hypotheses) == 2
    assert list(first.hypotheses[0].tokens) == [5, 5]
    assert first.hypotheses[0].score == -0.25 and first.hypotheses[0].log_prob == -0.5
    assert first.decode_steps == 3
    call = server.models.translators["en-fr"].calls[-1]
    assert call.options.beam_size == 3 and call.options.n_best == 2
    assert call.options.length_penalty is None and call.options.max_length is None
    # The client set a 5 s timeout: the engine gets it as an absolute monotonic deadline.
    # gRPC sends the timeout rounded up (grpc-timeout keeps a few digits) and the server
    # starts it on arrival, so the deadline may end a few ms after the client's (CI once
    # saw 5.008 s left when the reply came back fast): allow 0.1 s of that.
    assert call.deadline is not None and 0 < call.deadline - time.monotonic() <= 5.1


def test_translate_without_client_deadline_passes_none(stub, server):
    stub.Translate(pb.TranslateRequest(model="en-fr", sentences=["hi"]))
    assert server.models.translators["en-fr"].calls[-1].deadline is None


def test_translate_explicit_version_and_scores_off(stub):
    response = translate(stub, "hi", version=2, options=pb.DecodingOptions(return_scores=False))
    hyp = response.translations[0].hypotheses[0]
    assert hyp.text == "HI"
    assert not hyp.HasField("score") and not hyp.HasField("log_prob")


@pytest.mark.parametrize(
    ("request_fields", "code", "fragment"),
    [
        ({"model": "", "sentences": ["hi"]}, "INVALID_ARGUMENT", "model is required"),
        ({"sentences": []}, "INVALID_ARGUMENT", "sentences is empty"),
        ({"sentences": ["ok", "  "]}, "INVALID_ARGUMENT", "sentences[1]"),
        ({"sentences": ["a", "b", "c", "d"]}, "INVALID_ARGUMENT", "max_sentences=3"),
        ({"version": -1, "sentences": ["hi"]}, "INVALID_ARGUMENT", "version must be >= 0"),
        (
            {"sentences": ["hi"], "options": pb.DecodingOptions(beam_size=9)},
            "INVALID_ARGUMENT",
            "max_beam_size",
        ),
        ({"model": "xx-yy", "sentences": ["hi"]}, "NOT_FOUND", "xx-yy"),
        ({"version": 7, "sentences": ["hi"]}, "NOT_FOUND", "version 7"),
        ({"model": "de-en", "sentences": ["hi"]}, "UNAVAILABLE", "loading"),
        ({"sentences": ["__busy__"]}, "RESOURCE_EXHAUSTED", "max_queue"),
    ],
)
def test_translate_errors_map_to_status_codes(stub, request_fields, code, fragment):
    request_fields.setdefault("model", "en-fr")
    error = rpc_error(stub.Translate, pb.TranslateRequest(**request_fields), timeout=5)
    assert error.code().name == code
    assert fragment in error.details()


def test_unexpected_engine_error_is_internal_and_logged(stub, caplog):
    error = rpc_error(translate, stub, "__bug__")
    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == INTERNAL_MESSAGE  # no internals leak to the client
    assert any(
        r.exc_info and "secret internal detail" in str(r.exc_info[1]) for r in caplog.records
    )


def test_client_deadline_cancels_the_engine_call(stub, server):
    translator = server.models.translators["en-fr"]
    translator.cancelled_flag = False
    error = rpc_error(
        stub.Translate, pb.TranslateRequest(model="en-fr", sentences=["__hang__"]), timeout=0.5
    )
    assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert wait_until(lambda: translator.cancelled_flag), "engine call was not cancelled"


def test_client_cancel_cancels_the_engine_call(stub, server):
    translator = server.models.translators["en-fr"]
    translator.cancelled_flag = False
    calls_before = len(translator.calls)
    future = stub.Translate.future(pb.TranslateRequest(model="en-fr", sentences=["__hang__"]))
    # Cancel only once the engine is working on it (earlier tests left older calls).
    assert wait_until(lambda: len(translator.calls) > calls_before)
    future.cancel()
    assert wait_until(lambda: translator.cancelled_flag), "engine call was not cancelled"


# ---------------------------------------------------------------- TranslateStream


def test_translate_stream_partials_then_one_final(stub):
    request = pb.TranslateRequest(model="en-fr", sentences=["a b c", "d e"])
    messages = list(stub.TranslateStream(request, timeout=5))
    kinds = [m.WhichOneof("event") for m in messages]
    assert kinds == ["partial"] * 5 + ["final"]
    partials = [m.partial for m in messages[:-1]]
    assert [(p.sentence_index, p.step, p.text) for p in partials[:3]] == [
        (0, 1, "A"),
        (0, 2, "A B"),
        (0, 3, "A B C"),
    ]
    final = messages[-1].final
    assert (final.model, final.version) == ("en-fr", 2)
    assert [t.hypotheses[0].text for t in final.translations] == ["A B C", "D E"]


def test_translate_stream_error_after_partials_keeps_its_code(stub, server):
    server.models.translators["en-fr"].stream_closed = False
    request = pb.TranslateRequest(model="en-fr", sentences=["x y", "__busy__"])
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for message in stub.TranslateStream(request, timeout=5):
            received.append(message)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert len(received) == 3 and all(m.HasField("partial") for m in received)
    assert wait_until(lambda: server.models.translators["en-fr"].stream_closed)


def test_translate_stream_validation_error(stub):
    stream = stub.TranslateStream(pb.TranslateRequest(model="en-fr"), timeout=5)
    error = rpc_error(list, stream)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_translate_stream_cancel_closes_the_engine_stream(stub, server):
    translator = server.models.translators["en-fr"]
    translator.stream_closed = False
    stream = stub.TranslateStream(pb.TranslateRequest(model="en-fr", sentences=["go", "__hang__"]))
    assert next(stream).partial.text == "GO"
    stream.cancel()
    # Whether the cancel lands in the engine's wait or at a yield, its stream is closed.
    assert wait_until(lambda: translator.stream_closed)


# ---------------------------------------------------------------- models


def test_list_models_reports_every_model_with_metadata(stub):
    models = stub.ListModels(pb.ListModelsRequest(), timeout=5).models
    assert [(m.name, m.version) for m in models] == [("de-en", 1), ("en-fr", 2)]
    assert models[0].state == pb.MODEL_STATE_LOADING
    en_fr = models[1]
    assert en_fr.kind == pb.MODEL_KIND_SEQ2SEQ and en_fr.state == pb.MODEL_STATE_READY
    assert list(en_fr.available_versions) == [1, 2]
    assert list(en_fr.execution_providers) == ["CPUExecutionProvider"]
    assert en_fr.translator.limits.max_sentences == 3
    assert en_fr.batching.policy == pb.BATCHING_POLICY_CONTINUOUS


def test_get_model(stub):
    latest = stub.GetModel(pb.GetModelRequest(model="en-fr"), timeout=5)
    assert (latest.name, latest.version) == ("en-fr", 2)
    assert latest.translator.source_language == "en"
    assert latest.translator.decoding_defaults.beam_size == 4
    # A model that is still loading has metadata even though it cannot translate yet.
    loading = stub.GetModel(pb.GetModelRequest(model="de-en"), timeout=5)
    assert loading.state == pb.MODEL_STATE_LOADING
    assert rpc_error(stub.GetModel, pb.GetModelRequest(model="nope")).code().name == "NOT_FOUND"
    assert rpc_error(stub.GetModel, pb.GetModelRequest()).code().name == "INVALID_ARGUMENT"
    missing = rpc_error(stub.GetModel, pb.GetModelRequest(model="en-fr", version=5))
    assert missing.code() is grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------- health, reflection, metrics


def test_health_serving_for_overall_and_service(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "seqserve.v1.SeqServe"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_health_not_serving_after_drain():
    running = ServerThread(default_manager())
    try:
        with grpc.insecure_channel(running.target) as chan:
            health = health_pb2_grpc.HealthStub(chan)
            running.run(running.server.health.drain())
            for service in ("", "seqserve.v1.SeqServe"):
                reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        running.close()


def test_reflection_lists_services_and_serves_descriptors(channel):
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="seqserve.v1.SeqServe"),
    ]
    listed, file_reply = list(reflection.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {"seqserve.v1.SeqServe", "grpc.health.v1.Health"} <= names
    assert "grpc.reflection.v1alpha.ServerReflection" in names
    assert file_reply.file_descriptor_response.file_descriptor_proto


def _count(model: str, method: str, code: str) -> float:
    labels = {"model": model, "method": method, "code": code}
    return REGISTRY.get_sample_value("seqserve_requests_total", labels) or 0.0


def test_metrics_count_requests_by_model_method_and_code(stub):
    ok_before = _count("en-fr", "Translate", "OK")
    bad_before = _count("en-fr", "Translate", "INVALID_ARGUMENT")
    unknown_before = _count("", "Translate", "NOT_FOUND")
    translate(stub, "hi")
    rpc_error(translate, stub, "a", "b", "c", "d")
    rpc_error(translate, stub, "hi", model="made-up-name")
    assert _count("en-fr", "Translate", "OK") == ok_before + 1
    assert _count("en-fr", "Translate", "INVALID_ARGUMENT") == bad_before + 1
    # Unknown model names never become label values (unbounded cardinality).
    assert _count("", "Translate", "NOT_FOUND") == unknown_before + 1
    assert _count("made-up-name", "Translate", "NOT_FOUND") == 0
    latency = REGISTRY.get_sample_value(
        "seqserve_request_latency_seconds_count", {"model": "en-fr", "method": "Translate"}
    )
    assert latency and latency >= 1
