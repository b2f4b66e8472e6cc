"""Wire compatibility of seqserve's `inference` protos with tritonclient's generated modules.

Every message and field we declare must exist in tritonclient's modules with
the same number, type, label and message type; messages serialized by ours
must parse with theirs to the same values, with no unknown fields.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

tritonclient_grpc = pytest.importorskip("tritonclient.grpc")
from tritonclient.grpc import model_config_pb2 as theirs_config  # noqa: E402
from tritonclient.grpc import service_pb2 as theirs  # noqa: E402

DUMP = Path(__file__).with_name("dump_ours.py")


@cache
def ours() -> dict:
    out = subprocess.run(
        [sys.executable, str(DUMP)], check=True, capture_output=True, text=True, timeout=60
    )
    return json.loads(out.stdout)


def _their_fields() -> dict[str, dict[str, list[object]]]:
    found: dict[str, dict[str, list[object]]] = {}

    def walk(prefix: str, messages: list[descriptor_pb2.DescriptorProto]) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}"
            found[name] = {
                f.name: [f.name, f.number, f.type, f.label, f.type_name] for f in message.field
            }
            walk(name, list(message.nested_type))

    for module in (theirs, theirs_config):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        walk(f".{proto.package}", list(proto.message_type))
    return found


def test_every_field_matches_triton() -> None:
    their = _their_fields()
    mismatches = []
    for message, fields in ours()["fields"].items():
        if message not in their:
            mismatches.append(f"{message}: not a Triton message")
            continue
        for field in fields:
            if their[message].get(field[0]) != field:
                mismatches.append(f"{message}.{field[0]}: ours {field}, Triton's "
                                  f"{their[message].get(field[0])}")
    assert not mismatches, "\n".join(mismatches)
    assert len(ours()["fields"]) > 40  # the comparison really ran over the protocol


def test_service_and_methods_match_triton() -> None:
    service = theirs.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    assert ours()["service"] == service.full_name == "inference.GRPCInferenceService"
    their_methods = {m.name: m for m in service.methods}
    for name, (request, response, _) in ours()["methods"].items():
        assert their_methods[name].input_type.full_name == request
        assert their_methods[name].output_type.full_name == response
    assert set(ours()["methods"]) >= {
        "ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata",
        "ModelConfig", "ModelStatistics", "ModelInfer", "ModelStreamInfer",
        "RepositoryIndex", "RepositoryModelLoad", "RepositoryModelUnload",
    }


@pytest.mark.parametrize("name", [
    "ModelInferRequest", "ModelInferResponse", "ModelStreamInferResponse", "ModelConfigResponse",
    "ModelStatisticsResponse", "ModelMetadataResponse", "ServerMetadataResponse",
    "RepositoryIndexResponse", "RepositoryModelLoadRequest", "ModelReadyResponse",
    "ServerLiveResponse",
])
def test_ours_parses_with_theirs(name: str) -> None:
    data = base64.b64decode(ours()["samples"][name])
    message = getattr(theirs, name).FromString(data)
    assert message.ByteSize() == len(data)
    assert message.SerializeToString(deterministic=True) == getattr(theirs, name).FromString(
        message.SerializeToString()
    ).SerializeToString(deterministic=True)
    _no_unknown_fields(message)


def _no_unknown_fields(message: object) -> None:
    from google.protobuf.unknown_fields import UnknownFieldSet

    assert len(UnknownFieldSet(message)) == 0, type(message).__name__
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values()
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            if hasattr(item, "ListFields"):
                _no_unknown_fields(item)


def test_sample_values_survive() -> None:
    samples = ours()["samples"]
    request = theirs.ModelInferRequest.FromString(base64.b64decode(samples["ModelInferRequest"]))
    assert request.parameters["sequence_id"].uint64_param == 7
    assert request.parameters["sequence_start"].bool_param is True
    assert request.parameters["length_penalty"].double_param == 0.5
    assert list(request.inputs[0].contents.bytes_contents) == [b"a", b"b"]
    assert list(request.inputs[0].contents.int64_contents) == [-3]
    assert list(request.inputs[0].shape) == [2, 1]
    config = theirs.ModelConfigResponse.FromString(
        base64.b64decode(samples["ModelConfigResponse"])
    ).config
    assert config.WhichOneof("scheduling_choice") == "sequence_batching"
    assert config.sequence_batching.max_sequence_idle_microseconds == 5
    assert config.model_transaction_policy.decoupled is True
    assert config.input[0].data_type == theirs_config.TYPE_STRING
    assert config.parameters["k"].string_value == "v"
    stats = theirs.ModelStatisticsResponse.FromString(
        base64.b64decode(samples["ModelStatisticsResponse"])
    ).model_stats[0]
    assert stats.inference_stats.compute_infer.ns == 6 and stats.execution_count == 3
