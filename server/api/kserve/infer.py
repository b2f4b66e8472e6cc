"""ModelInfer and ModelStreamInfer: decode, check, delegate to the kind's adapter, encode.

Both RPCs run one request through `infer_one`, so a request behaves the same
unary or streamed. On a stream, requests run concurrently as they arrive and
responses go back as they finish (tritonclient matches them by id); requests
of one sequence run in arrival order, since each continues the previous one's
state. A failed request on a stream becomes an error_message response and the
stream carries on, as in Triton.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.api.caller import bind_namespace
from seqserve.server.api.concurrent_stream import answer_concurrently
from seqserve.server.api.deadline import deadline_of
from seqserve.server.api.errors import client_status, grpc_method
from seqserve.server.api.kserve import tensors, validate
from seqserve.server.api.kserve.kinds import InferCall, KindAdapter
from seqserve.server.api.kserve.params import Parameters, check_known, parameters_dict
from seqserve.server.api.kserve.stats import RequestTimer, Statistics
from seqserve.server.api.kserve.stream_partials import stream_partials, wants_partials


class InferMethods:
    """The inference RPCs of GRPCInferenceService (mixed into KServeServicer)."""

    statistics: Statistics

    def resolve(self, name: str, version: str) -> tuple[Any, KindAdapter]:  # pragma: no cover
        raise NotImplementedError

    async def infer_one(
        self, request: pb.ModelInferRequest, deadline: float | None
    ) -> pb.ModelInferResponse:
        timer = RequestTimer()
        handle, adapter = self.resolve(request.model_name, request.model_version)
        info = handle.info
        try:
            timer.mark()  # resolved: what follows is reading the request
            signature = adapter.signature(info)
            # Declared shapes first: an oversize tensor is refused before decoding.
            validate.check_declared(signature, request.inputs, info.name)
            inputs = tensors.decode_inputs(request, info.name)
            validate.check_inputs(signature, inputs, info.name)
            wanted = validate.check_requested_outputs(
                signature, (o.name for o in request.outputs), info.name
            )
            check_known(request.parameters.keys(), info.name)
            params = Parameters(parameters_dict(request.parameters))
            call = InferCall(
                inputs, params, deadline,
                sequence_key=params.sequence_id(),
                sequence_start=bool(params.bool("sequence_start")),
                sequence_end=bool(params.bool("sequence_end")),
            )
            timer.mark()
            outcome = await adapter.infer(handle, call)
            timer.mark()
            response = pb.ModelInferResponse(
                model_name=info.name, model_version=str(info.version), id=request.id
            )
            for tensor in outcome.outputs:
                if not wanted or tensor.name in wanted:
                    tensors.add_output(response, tensor)
        except BaseException:
            self.statistics.failure(info.name, info.version, timer)
            raise
        self.statistics.success(info.name, info.version, timer, outcome.rows)
        return response

    @grpc_method
    async def ModelInfer(
        self, request: pb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelInferResponse:
        bind_namespace(context)  # KServe sequence ids are per caller
        return await self.infer_one(request, deadline_of(context))

    @grpc_method
    async def ModelStreamInfer(
        self, requests: AsyncIterator[pb.ModelInferRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ModelStreamInferResponse]:
        deadline = deadline_of(context)
        bind_namespace(context)  # the answering tasks inherit it: sequence ids per caller
        # Requests of one sequence are answered in arrival order; the rest at once.
        async for response in answer_concurrently(
            self.streams.guard(requests), lambda request: self._stream_one(request, deadline),
            key=_sequence_key,
        ):
            yield response

    async def _stream_one(
        self, request: pb.ModelInferRequest, deadline: float | None
    ) -> Any:
        if wants_partials(request):
            return stream_partials(self, request, deadline)
        try:
            response = await self.infer_one(request, deadline)
        except Exception as exc:
            code, message = client_status(exc, "a ModelStreamInfer request")
            return _stream_error(request, f"[{code.name}] {message}")
        return pb.ModelStreamInferResponse(infer_response=response)


def _sequence_key(request: pb.ModelInferRequest) -> tuple[str, str] | None:
    param = request.parameters.get("sequence_id")
    if param is None:
        return None
    which = param.WhichOneof("parameter_choice")
    value = getattr(param, which) if which else None
    if value in (None, 0, ""):
        return None
    return (request.model_name, str(value))


def _stream_error(request: pb.ModelInferRequest, message: str) -> pb.ModelStreamInferResponse:
    # The id lets a client match the failure to its request, as for a result.
    return pb.ModelStreamInferResponse(
        error_message=message,
        infer_response=pb.ModelInferResponse(
            model_name=request.model_name, model_version=request.model_version, id=request.id
        ),
    )
