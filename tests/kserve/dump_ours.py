"""Run as a script: print seqserve's `inference` descriptors and sample messages as JSON.

A separate process, so the comparison never depends on which of the two
module sets (ours, tritonclient's) a process imported first.
"""

from __future__ import annotations

import base64
import json
import sys

from google.protobuf import descriptor_pb2

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.protos.inference import model_config_pb2 as mc


def fields(file_proto: descriptor_pb2.FileDescriptorProto) -> dict[str, list[list[object]]]:
    """message full name -> [[field name, number, type, label, type_name], ...]."""
    out: dict[str, list[list[object]]] = {}

    def walk(prefix: str, messages: list[descriptor_pb2.DescriptorProto]) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}"
            out[name] = [
                [f.name, f.number, f.type, f.label, f.type_name] for f in message.field
            ]
            walk(name, list(message.nested_type))

    walk(f".{file_proto.package}", list(file_proto.message_type))
    return out


def samples() -> dict[str, str]:
    param = pb.InferParameter
    request = pb.ModelInferRequest(
        model_name="m", model_version="2", id="req-1",
        parameters={"sequence_id": param(uint64_param=7), "sequence_start": param(bool_param=True),
                    "beam_size": param(int64_param=3), "tag": param(string_param="x"),
                    "length_penalty": param(double_param=0.5)},
        inputs=[pb.ModelInferRequest.InferInputTensor(
            name="TEXT", datatype="BYTES", shape=[2, 1],
            contents=pb.InferTensorContents(bytes_contents=[b"a", b"b"], fp32_contents=[1.5],
                                            int64_contents=[-3], uint64_contents=[9]))],
        outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="HYPOTHESES")],
        raw_input_contents=[b"\x01\x00\x00\x00a"],
    )
    response = pb.ModelInferResponse(
        model_name="m", model_version="2", id="req-1",
        outputs=[pb.ModelInferResponse.InferOutputTensor(name="SCORES", datatype="FP32",
                                                         shape=[1, 2])],
        raw_output_contents=[b"\x00" * 8],
    )
    config = mc.ModelConfig(
        name="m", platform="seqserve_seq2seq", backend="seqserve", max_batch_size=8,
        input=[mc.ModelInput(name="TEXT", data_type=mc.TYPE_STRING, dims=[1], optional=True)],
        output=[mc.ModelOutput(name="SCORES", data_type=mc.TYPE_FP32, dims=[-1])],
        sequence_batching=mc.ModelSequenceBatching(max_sequence_idle_microseconds=5),
        model_transaction_policy=mc.ModelTransactionPolicy(decoupled=True),
        parameters={"k": mc.ModelParameter(string_value="v")},
    )
    stats = pb.ModelStatisticsResponse(model_stats=[pb.ModelStatistics(
        name="m", version="1", last_inference=5, inference_count=4, execution_count=3,
        inference_stats=pb.InferStatistics(success=pb.StatisticDuration(count=2, ns=10),
                                           compute_infer=pb.StatisticDuration(count=2, ns=6)))])
    messages = {
        "ModelInferRequest": request,
        "ModelInferResponse": response,
        "ModelStreamInferResponse": pb.ModelStreamInferResponse(error_message="e",
                                                                infer_response=response),
        "ModelConfigResponse": pb.ModelConfigResponse(config=config),
        "ModelStatisticsResponse": stats,
        "ModelMetadataResponse": pb.ModelMetadataResponse(
            name="m", versions=["1"], platform="p",
            inputs=[pb.ModelMetadataResponse.TensorMetadata(name="T", datatype="BYTES",
                                                            shape=[-1, 1])]),
        "ServerMetadataResponse": pb.ServerMetadataResponse(name="s", version="1",
                                                            extensions=["statistics"]),
        "RepositoryIndexResponse": pb.RepositoryIndexResponse(models=[
            pb.RepositoryIndexResponse.ModelIndex(name="m", version="1", state="READY",
                                                  reason="r")]),
        "RepositoryModelLoadRequest": pb.RepositoryModelLoadRequest(
            repository_name="r", model_name="m",
            parameters={"p": pb.ModelRepositoryParameter(bytes_param=b"z")}),
        "ModelReadyResponse": pb.ModelReadyResponse(ready=True),
        "ServerLiveResponse": pb.ServerLiveResponse(live=True),
    }
    return {name: base64.b64encode(m.SerializeToString()).decode() for name, m in messages.items()}


def main() -> None:
    files = {}
    for module in (pb, mc):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        files.update(fields(proto))
    service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    methods = {
        m.name: [m.input_type.full_name, m.output_type.full_name,
                 m.client_streaming if hasattr(m, "client_streaming") else None]
        for m in service.methods
    }
    json.dump({"fields": files, "methods": methods, "service": service.full_name,
               "samples": samples()}, sys.stdout)


if __name__ == "__main__":
    main()
