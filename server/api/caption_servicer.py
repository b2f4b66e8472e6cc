"""Caption: convert, delegate to the captioner engine, convert back."""

from __future__ import annotations

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import caption_convert, convert
from seqserve.server.api.deadline import deadline_of
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.kinds import CAPTIONER
from seqserve.server.kinds.captioner import check_image_count


class CaptionMethods:
    """The Caption RPC of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup

    @grpc_method
    async def Caption(
        self, request: pb.CaptionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CaptionResponse:
        version = convert.validate_model_ref(request.model, request.version)
        images = caption_convert.images_from_request(request)
        handle = self._models.get(request.model, version, kind=CAPTIONER)
        bind_model(handle.info.name)
        limits = handle.info.config.limits
        check_image_count(len(images), limits)  # before any image is decoded
        options = convert.decoding_options_from_proto(request.options)
        options.resolve(handle.info.config.decoding, limits)  # bad options: at once
        results = await handle.caption(
            images, options, deadline=deadline_of(context)
        )
        return caption_convert.caption_response(
            handle.info, results, return_scores=options.return_scores
        )
