"""Server, model and repository RPCs of the KServe v2 API, through tritonclient."""

from __future__ import annotations

import threading

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tritonclient.grpc import model_config_pb2

from tests.kserve.conftest import CAPTIONER, FORECASTER, SECOND_TRANSLATOR, TAGGER, TRANSLATOR
from tests.kserve.kserve_helpers import decoded, expect_error, text_input


def test_live_ready_and_server_metadata(triton) -> None:
    assert triton.is_server_live()
    assert triton.is_server_ready()
    meta = triton.get_server_metadata()
    assert meta.name == "seqserve"
    assert set(meta.extensions) == {
        "model_configuration", "model_repository", "statistics", "parameters", "sequence"
    }


def test_model_ready(triton) -> None:
    assert triton.is_model_ready(TRANSLATOR)
    assert triton.is_model_ready(TRANSLATOR, "1")
    assert not triton.is_model_ready(TRANSLATOR, "7")
    assert not triton.is_model_ready("no-such-model")


def test_translator_metadata_and_config(triton) -> None:
    meta = triton.get_model_metadata(TRANSLATOR)
    assert meta.name == TRANSLATOR and list(meta.versions) == ["1"]
    assert meta.platform == "seqserve_seq2seq"
    inputs = [(t.name, t.datatype, list(t.shape)) for t in meta.inputs]
    assert inputs == [("TEXT", "BYTES", [-1, 1])]
    assert [t.name for t in meta.outputs] == ["HYPOTHESES", "SCORES", "ATTENTION"]
    config = triton.get_model_config(TRANSLATOR).config
    assert config.name == TRANSLATOR and config.max_batch_size == 32
    assert config.input[0].data_type == model_config_pb2.TYPE_STRING
    assert config.WhichOneof("scheduling_choice") == "dynamic_batching"
    assert config.model_transaction_policy.decoupled is False


def test_forecaster_config_is_a_sequence_model(triton) -> None:
    config = triton.get_model_config(FORECASTER).config
    assert config.WhichOneof("scheduling_choice") == "sequence_batching"
    assert config.sequence_batching.max_sequence_idle_microseconds > 0
    assert config.max_batch_size == 0
    assert [i.name for i in config.input] == ["INPUT"]
    tagger = triton.get_model_config(TAGGER).config
    assert {i.name for i in tagger.input} == {"TEXT", "TOKENS"}
    assert all(i.optional for i in tagger.input)


def test_unknown_model_is_not_found_with_tritons_wording(triton) -> None:
    expect_error(lambda: triton.get_model_metadata("nope"), "NOT_FOUND",
                 "Request for unknown model: 'nope' is not found")
    expect_error(lambda: triton.get_model_config(TRANSLATOR, "9"), "NOT_FOUND", "version 9")


def test_statistics_are_consistent(triton) -> None:
    before = triton.get_inference_statistics(TRANSLATOR).model_stats[0].inference_stats
    triton.infer(TRANSLATOR, [text_input("TEXT", ["one", "two"])])
    expect_error(lambda: triton.infer(TRANSLATOR, [text_input("WRONG", ["one"])]),
                 "INVALID_ARGUMENT")
    stats = triton.get_inference_statistics(TRANSLATOR).model_stats[0]
    infer = stats.inference_stats
    assert infer.success.count == before.success.count + 1
    assert infer.fail.count == before.fail.count + 1
    parts = (infer.queue, infer.compute_input, infer.compute_infer, infer.compute_output)
    assert all(p.count == infer.success.count for p in parts)
    assert sum(p.ns for p in parts) == infer.success.ns
    assert infer.compute_infer.ns > 0 and stats.inference_count >= 2
    assert stats.last_inference > 0
    every = triton.get_inference_statistics()
    assert {s.name for s in every.model_stats} >= {TRANSLATOR, TAGGER, FORECASTER, CAPTIONER}


def test_repository_index(triton) -> None:
    index = {m.name: m for m in triton.get_model_repository_index().models}
    assert {TRANSLATOR, SECOND_TRANSLATOR, TAGGER, FORECASTER} <= set(index)
    assert index[TRANSLATOR].state == "READY" and index[TRANSLATOR].version == "1"


def test_unload_and_load_while_another_model_serves(triton, kserve_server) -> None:
    import tritonclient.grpc as grpcclient

    # The translators are tiny models whose greedy output may be any string, even
    # empty: what must hold is that serving one model is untouched by unloading
    # and loading another, so every answer equals the one given before.
    def translate(client: object, model: str, text: str) -> list[list[str]]:
        result = client.infer(model, [text_input("TEXT", [text])],  # type: ignore[attr-defined]
                              parameters={"beam_size": 1})
        return decoded(result.as_numpy("HYPOTHESES"))

    expected = translate(triton, TRANSLATOR, "forty two")
    assert len(expected) == 1 and len(expected[0]) == 1
    failures: list[BaseException] = []
    answers = 0
    stop = threading.Event()

    def keep_translating() -> None:
        nonlocal answers
        client = grpcclient.InferenceServerClient(kserve_server.address)
        try:
            while not stop.is_set():
                assert translate(client, TRANSLATOR, "forty two") == expected
                answers += 1
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            client.close()

    worker = threading.Thread(target=keep_translating)
    worker.start()
    try:
        triton.unload_model(SECOND_TRANSLATOR)
        assert not triton.is_model_ready(SECOND_TRANSLATOR)
        index = {m.name: m for m in triton.get_model_repository_index().models}
        assert index[SECOND_TRANSLATOR].state == "UNAVAILABLE"
        expect_error(lambda: triton.infer(SECOND_TRANSLATOR, [text_input("TEXT", ["one"])]),
                     "UNAVAILABLE", SECOND_TRANSLATOR)
        triton.load_model(SECOND_TRANSLATOR)
        assert triton.is_model_ready(SECOND_TRANSLATOR)
        # The same exported graph under another name answers exactly as the first.
        assert translate(triton, SECOND_TRANSLATOR, "seven") == translate(
            triton, TRANSLATOR, "seven")
    finally:
        stop.set()
        worker.join(30)
    assert not failures, failures
    assert answers > 0
    expect_error(lambda: triton.load_model("not-in-repository"), "NOT_FOUND", "not-in-repository")
    expect_error(lambda: triton.unload_model("not-loaded"), "NOT_FOUND", "not-loaded")


def test_reflection_lists_the_services(kserve_server) -> None:
    with grpc.insecure_channel(kserve_server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="inference.GRPCInferenceService"
            ),
        ]
        listed, described = list(stub.ServerReflectionInfo(iter(requests)))
    names = {s.name for s in listed.list_services_response.service}
    assert {"inference.GRPCInferenceService", "seqserve.v1.SeqServe",
            "grpc.health.v1.Health"} <= names
    from google.protobuf import descriptor_pb2

    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in described.file_descriptor_response.file_descriptor_proto]
    assert any(s.name == "GRPCInferenceService" for f in files for s in f.service)


@pytest.mark.parametrize("service", ["inference.GRPCInferenceService", ""])
def test_health_reports_the_kserve_service(kserve_server, service: str) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(kserve_server.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_captioner_metadata(triton) -> None:
    meta = triton.get_model_metadata(CAPTIONER)
    assert meta.platform == "seqserve_captioner"
    shapes = {t.name: (t.datatype, list(t.shape)) for t in meta.inputs}
    assert shapes == {"IMAGE": ("BYTES", [-1, 1]), "PIXELS": ("FP32", [-1, 3, 48, 48])}
    assert triton.get_model_config(CAPTIONER).config.max_batch_size == 4
