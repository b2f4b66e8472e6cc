"""Tag: convert, delegate to the tagger engine, convert back."""

from __future__ import annotations

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import convert, tagging_convert
from seqserve.server.api.deadline import deadline_of
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.kinds import TAGGER


class TaggingMethods:
    """The Tag RPC of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup

    @grpc_method
    async def Tag(
        self, request: pb.TagRequest, context: grpc.aio.ServicerContext
    ) -> pb.TagResponse:
        version = convert.validate_model_ref(request.model, request.version)
        sentences = tagging_convert.sentences_from_request(request)
        handle = self._models.get(request.model, version, kind=TAGGER)
        bind_model(handle.info.name)
        tagged = await handle.tag(
            sentences, top_k=request.top_k, deadline=deadline_of(context)
        )
        return tagging_convert.tag_response(handle.info, tagged)
