"""ModelStreamInfer partial hypotheses for decoding models (Triton's decoupled style).

A translator request on ModelStreamInfer that sets the parameter
`stream_partials: true` gets several responses, all with the request's id:
one per improvement of a sentence's best live hypothesis (HYPOTHESES BYTES
[1, 1], parameters sentence_index, step and triton_final_response=false),
then the complete result (the same tensors ModelInfer returns). As in Triton,
with `triton_enable_empty_final_response: true` the complete result is
followed by an empty response flagged triton_final_response=true; without it
the complete result carries that flag. Every decoding option applies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.api.errors import client_status
from seqserve.server.api.kserve import tensors, validate
from seqserve.server.api.kserve.kinds import InferCall
from seqserve.server.api.kserve.params import Parameters, parameters_dict
from seqserve.server.engine.results import PartialUpdate
from seqserve.server.errors import InvalidArgumentError

FINAL = "triton_final_response"


def wants_partials(request: pb.ModelInferRequest) -> bool:
    param = request.parameters.get("stream_partials")
    return param is not None and param.WhichOneof("parameter_choice") is not None and bool(
        getattr(param, param.WhichOneof("parameter_choice"))
    )


async def stream_partials(
    methods: Any, request: pb.ModelInferRequest, deadline: float | None
) -> AsyncIterator[pb.ModelStreamInferResponse]:
    params = Parameters(parameters_dict(request.parameters))
    try:
        empty_final = bool(params.bool("triton_enable_empty_final_response"))
        handle, adapter = methods.resolve(request.model_name, request.model_version)
        if not hasattr(adapter, "infer_stream"):
            raise InvalidArgumentError(
                f"stream_partials: model '{request.model_name}' ({adapter.platform}) "
                "has no partial results"
            )
        info = handle.info
        signature = adapter.signature(info)
        inputs = tensors.decode_inputs(request, info.name)
        validate.check_inputs(signature, inputs, info.name)
        wanted = validate.check_requested_outputs(
            signature, (o.name for o in request.outputs), info.name
        )
        call = InferCall(inputs, params, deadline)
        async for item in adapter.infer_stream(handle, call):
            response = pb.ModelInferResponse(
                model_name=info.name, model_version=str(info.version), id=request.id
            )
            if isinstance(item, PartialUpdate):
                tensors.add_output(response, tensors.bytes_tensor("HYPOTHESES", [[item.text]]))
                response.parameters["sentence_index"].int64_param = item.sentence_index
                response.parameters["step"].int64_param = item.step
                response.parameters[FINAL].bool_param = False
            else:
                for tensor in item.outputs:
                    if not wanted or tensor.name in wanted:
                        tensors.add_output(response, tensor)
                response.parameters[FINAL].bool_param = not empty_final
            yield pb.ModelStreamInferResponse(infer_response=response)
    except Exception as exc:
        code, message = client_status(exc, "a ModelStreamInfer request")
        yield pb.ModelStreamInferResponse(
            error_message=f"[{code.name}] {message}",
            infer_response=pb.ModelInferResponse(
                model_name=request.model_name, model_version=request.model_version,
                id=request.id,
            ),
        )
        return
    if empty_final:
        final = pb.ModelInferResponse(
            model_name=request.model_name, model_version=str(info.version), id=request.id
        )
        final.parameters[FINAL].bool_param = True
        yield pb.ModelStreamInferResponse(infer_response=final)
