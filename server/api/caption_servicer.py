"""Caption: convert, delegate to the captioner engine, convert back."""

from __future__ import annotations

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import caption_convert, convert
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.translation_servicer import deadline_of
from seqserve.server.errors import FailedPreconditionError, InvalidArgumentError


class CaptionMethods:
    """The Caption RPC of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup

    @grpc_method
    async def Caption(
        self, request: pb.CaptionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CaptionResponse:
        version = convert.validate_model_ref(request.model, request.version)
        images = caption_convert.images_from_request(request)
        handle = self._models.get(request.model, version)
        bind_model(handle.info.name)
        if handle.info.kind != "captioner":
            raise FailedPreconditionError(
                f"model '{handle.info.name}' is a {handle.info.kind} model; Caption needs a "
                "captioner"
            )
        limits = handle.info.config.limits
        if len(images) > limits.max_images:
            raise InvalidArgumentError(
                f"{len(images)} images exceed the model's limit max_images={limits.max_images}"
            )
        options = convert.decoding_options_from_proto(request.options)
        options.resolve(handle.info.config.decoding, limits)  # bad options: at once
        results = await handle.caption(  # type: ignore[attr-defined]
            images, options, deadline=deadline_of(context)
        )
        return caption_convert.caption_response(
            handle.info, results, return_scores=options.return_scores
        )
