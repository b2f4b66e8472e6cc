"""Engine metadata -> ModelMetadata, ModelConfig and ModelStatistics messages."""

from __future__ import annotations

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.protos.inference import model_config_pb2 as mc
from seqserve.server.api.kserve.kinds import Signature, TensorSpec
from seqserve.server.api.kserve.stats import Duration, ModelCounters
from seqserve.server.engine.handle import ModelInfo

_CONFIG_TYPES = {
    "BOOL": mc.TYPE_BOOL, "UINT8": mc.TYPE_UINT8, "UINT16": mc.TYPE_UINT16,
    "UINT32": mc.TYPE_UINT32, "UINT64": mc.TYPE_UINT64, "INT8": mc.TYPE_INT8,
    "INT16": mc.TYPE_INT16, "INT32": mc.TYPE_INT32, "INT64": mc.TYPE_INT64,
    "FP16": mc.TYPE_FP16, "FP32": mc.TYPE_FP32, "FP64": mc.TYPE_FP64,
    "BYTES": mc.TYPE_STRING,  # Triton's config calls BYTES tensors TYPE_STRING
}


def _full_shape(spec: TensorSpec, signature: Signature) -> list[int]:
    batch = [-1] if signature.max_batch_size > 0 else []
    return [*batch, *spec.dims]


def model_metadata(
    info: ModelInfo, signature: Signature, platform: str
) -> pb.ModelMetadataResponse:
    tensor = pb.ModelMetadataResponse.TensorMetadata
    return pb.ModelMetadataResponse(
        name=info.name,
        versions=[str(v) for v in sorted(info.available_versions or [info.version])],
        platform=platform,
        inputs=[
            tensor(name=s.name, datatype=s.datatype, shape=_full_shape(s, signature))
            for s in signature.inputs
        ],
        outputs=[
            tensor(name=s.name, datatype=s.datatype, shape=_full_shape(s, signature))
            for s in signature.outputs
        ],
    )


def model_config(info: ModelInfo, signature: Signature, platform: str) -> mc.ModelConfig:
    config = mc.ModelConfig(
        name=info.name,
        platform=platform,
        backend="seqserve",
        max_batch_size=signature.max_batch_size,
        input=[
            mc.ModelInput(
                name=s.name, data_type=_CONFIG_TYPES[s.datatype], dims=s.dims, optional=s.optional
            )
            for s in signature.inputs
        ],
        output=[
            mc.ModelOutput(name=s.name, data_type=_CONFIG_TYPES[s.datatype], dims=s.dims)
            for s in signature.outputs
        ],
        # One request -> one response for every kind (streamed partial
        # translations stay on the domain API's TranslateStream).
        model_transaction_policy=mc.ModelTransactionPolicy(decoupled=False),
    )
    if signature.sequence:
        config.sequence_batching.CopyFrom(
            mc.ModelSequenceBatching(max_sequence_idle_microseconds=signature.idle_timeout_us)
        )
    elif signature.max_batch_size > 0:
        # The engine batches across requests (continuous or dynamic batching).
        config.dynamic_batching.CopyFrom(
            mc.ModelDynamicBatching(max_queue_delay_microseconds=signature.max_queue_delay_us)
        )
    return config


def _duration(d: Duration) -> pb.StatisticDuration:
    return pb.StatisticDuration(count=d.count, ns=d.ns)


def model_statistics(info: ModelInfo, c: ModelCounters) -> pb.ModelStatistics:
    return pb.ModelStatistics(
        name=info.name,
        version=str(info.version),
        last_inference=c.last_inference_ms,
        inference_count=c.inference_count,
        execution_count=c.execution_count,
        inference_stats=pb.InferStatistics(
            success=_duration(c.success),
            fail=_duration(c.fail),
            queue=_duration(c.queue),
            compute_input=_duration(c.compute_input),
            compute_infer=_duration(c.compute_infer),
            compute_output=_duration(c.compute_output),
            cache_hit=pb.StatisticDuration(),
            cache_miss=pb.StatisticDuration(),
        ),
    )
