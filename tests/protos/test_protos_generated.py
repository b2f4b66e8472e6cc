"""The committed *_pb2* modules match the .proto sources, and import where installed."""

from __future__ import annotations

import pytest

from seqserve.protos import generate


def test_committed_modules_match_a_fresh_generation():
    pytest.importorskip("grpc_tools", reason="grpcio-tools is a dev dependency")
    problems = generate.check()
    assert not problems, "\n".join(problems) + "\nrun: python -m seqserve.protos.generate"


def test_check_reports_a_stale_module(tmp_path, monkeypatch):
    pytest.importorskip("grpc_tools", reason="grpcio-tools is a dev dependency")
    # A copy of the protos tree with one generated file edited must fail the check.
    for source in generate.proto_sources():
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / source).write_text((generate.PROTO_ROOT / source).read_text())
    for rel in generate.committed_files():
        text = (generate.PROTO_ROOT / rel).read_text()
        if rel.name == "seqserve_pb2_grpc.py":  # one stale module among several roots
            text += "\n# edited\n"
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(generate, "PROTO_ROOT", tmp_path)
    problems = generate.check()
    assert len(problems) == 1 and "seqserve_pb2_grpc.py: differs" in problems[0]
    assert generate.main(["--check"]) == 1


def test_generated_grpc_module_imports_from_the_installed_package():
    from seqserve.protos.seqserve.v1 import seqserve_pb2, seqserve_pb2_grpc

    assert seqserve_pb2_grpc.seqserve_dot_v1_dot_seqserve__pb2 is seqserve_pb2
    assert seqserve_pb2.DESCRIPTOR.package == "seqserve.v1"
    assert seqserve_pb2.DESCRIPTOR.name == "seqserve/v1/seqserve.proto"


def test_service_shape():
    from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb

    service = pb.DESCRIPTOR.services_by_name["SeqServe"]
    methods = {m.name: (m.client_streaming, m.server_streaming) for m in service.methods}
    # Each model kind adds its RPCs; the ones below must keep their shapes.
    expected = {
        "Translate": (False, False),
        "TranslateStream": (False, True),
        "ListModels": (False, False),
        "GetModel": (False, False),
        "Tag": (False, False),
        "Caption": (False, False),
    }
    assert {name: methods.get(name) for name in expected} == expected


def test_every_decoding_option_has_presence():
    # "unset = model default" needs explicit presence (proto3 `optional`) on every field.
    from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb

    # Repeated options (target_prefix, suppress_sequences) cannot have presence:
    # empty means "none", which is their default.
    fields = pb.DecodingOptions.DESCRIPTOR.fields
    singular = [f for f in fields if not f.is_repeated]
    assert singular and all(f.has_presence for f in singular)
    assert {f.name for f in fields if f.is_repeated} == {"target_prefix", "suppress_sequences"}


def test_import_rewrite_targets_the_installed_package_and_is_idempotent():
    generated = (
        "from google.protobuf import descriptor as _descriptor\n"
        "from seqserve.v1 import common_pb2 as seqserve_dot_v1_dot_common__pb2\n"
    )
    fixed = generate._postprocess(generated)
    assert "from google.protobuf import descriptor" in fixed
    assert "from seqserve.protos.seqserve.v1 import common_pb2 as" in fixed
    assert generate._postprocess(fixed).count("seqserve.protos.seqserve.v1") == 1


def test_model_metadata_wire_numbers_stay_published():
    # Field numbers are the wire contract: added fields take new numbers, none moves.
    from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb

    def numbers(message) -> dict[str, int]:
        return {f.name: f.number for f in message.DESCRIPTOR.fields}

    assert numbers(pb.ModelMetadata) == {
        "name": 1, "version": 2, "kind": 3, "available_versions": 4, "state": 5,
        "description": 6, "execution_providers": 7, "batching": 8,
        "translator": 16, "tagger": 17, "captioner": 18, "streaming": 19,
    }
    assert numbers(pb.Batching) == {
        "policy": 1, "max_live_sentences": 2, "max_rows": 3, "max_queue": 4,
        "max_encoder_batch": 5, "max_batch_size": 6, "max_queue_delay_ms": 7,
    }
    oneof = pb.ModelMetadata.DESCRIPTOR.oneofs_by_name["details"]
    assert [f.name for f in oneof.fields] == ["translator", "tagger", "captioner", "streaming"]
    assert pb.BatchingPolicy.Value("BATCHING_POLICY_SEQUENTIAL") == 3
    assert pb.BatchingPolicy.Value("BATCHING_POLICY_DYNAMIC") == 4
