"""ListModels and GetModel: model metadata from the engine's ModelInfo."""

from __future__ import annotations

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import convert
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup, find_model_info


class ModelMethods:
    """The model-metadata RPCs of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup

    @grpc_method
    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        infos = sorted(self._models.list_models(), key=lambda info: (info.name, info.version))
        return pb.ListModelsResponse(models=[convert.model_metadata(info) for info in infos])

    @grpc_method
    async def GetModel(
        self, request: pb.GetModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelMetadata:
        version = convert.validate_model_ref(request.model, request.version)
        info = find_model_info(self._models, request.model, version)
        bind_model(info.name)
        return convert.model_metadata(info)
