"""inference.GRPCInferenceService (KServe v2 / Triton) on the same server and engine.

Thin: each RPC converts, delegates to the same ModelManager handles the domain
API uses, and converts back; errors go through the one table in api/errors.py.
The per-kind tensor mapping lives in the kind_*.py adapters (kinds.py).
"""

from __future__ import annotations

import asyncio
from importlib import metadata
from typing import Any, Protocol

import grpc

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.protos.inference import grpc_service_pb2_grpc as pb_grpc
from seqserve.protos.inference.pool import POOL
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.kserve import describe
from seqserve.server.api.kserve.infer import InferMethods
from seqserve.server.api.kserve.kinds import KindAdapter, make_adapters
from seqserve.server.api.kserve.params import parse_integer
from seqserve.server.api.kserve.repository_load import requested_version
from seqserve.server.api.kserve.stats import Statistics
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.stream_drain import StreamRegistry
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.errors import (
    InvalidArgumentError,
    NotFoundError,
    SeqServeError,
    UnavailableError,
)
from seqserve.server.repository.names import plain_model_name

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
""""inference.GRPCInferenceService", as health checks and reflection name it."""
DESCRIPTOR_POOL = POOL
"""The pool these messages live in (not protobuf's default one): reflection needs it."""


class ModelControl(ModelLookup, Protocol):
    """The manager calls repository control needs, beyond lookups (ModelManager has them)."""

    def load(self, name: str, version: int | None = None) -> ModelInfo: ...

    def unload(self, name: str) -> None: ...


def parse_version(version: str) -> int | None:
    """KServe versions are strings; "" = the loaded version."""
    if not version:
        return None
    # ASCII digits and nothing else (no sign, no spaces; "²" is a digit to isdigit()).
    number = parse_integer(version) if version.isascii() and version.isdigit() else None
    if number is None or number <= 0:
        shown = version if len(version) <= 40 else f"{version[:30]}... ({len(version)} chars)"
        raise InvalidArgumentError(f"model version must be a positive integer, got '{shown}'")
    return number


class KServeServicer(InferMethods, pb_grpc.GRPCInferenceServiceServicer):
    def __init__(self, models: ModelLookup) -> None:
        self._models = models
        self.streams = StreamRegistry()
        """ModelStreamInfer streams, which the server's drain ends (stream_drain.py)."""
        self._adapters: dict[str, KindAdapter] = make_adapters()
        self.statistics = Statistics()

    # ---- lookups -------------------------------------------------------------
    def _handle(self, name: str, version: str) -> Any:
        if not name:
            raise InvalidArgumentError("model name is required")
        wanted = parse_version(version)
        try:
            handle = self._models.get(name, wanted)
        except NotFoundError:
            detail = "" if wanted is None else f" version {wanted}"
            raise NotFoundError(
                f"Request for unknown model: '{name}'{detail} is not found"
            ) from None
        bind_model(handle.info.name)
        return handle

    def _adapter(self, info: ModelInfo) -> KindAdapter:
        adapter = self._adapters.get(info.kind)
        if adapter is None:
            # Every registered kind has an adapter: only a kind outside the registry
            # (a manager bug) gets here.
            raise UnavailableError(
                f"model '{info.name}' is a {info.kind} model, which the KServe v2 API "
                f"does not serve"
            )
        return adapter

    def resolve(self, name: str, version: str) -> tuple[Any, KindAdapter]:
        handle = self._handle(name, version)
        return handle, self._adapter(handle.info)

    # ---- server --------------------------------------------------------------
    @grpc_method
    async def ServerLive(
        self, request: pb.ServerLiveRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    @grpc_method
    async def ServerReady(
        self, request: pb.ServerReadyRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerReadyResponse:
        # Strict readiness, as Triton's default: every repository model loaded (none
        # loading, none FAILED); models that did load serve regardless.
        ready = getattr(self._models, "ready", None)
        return pb.ServerReadyResponse(ready=True if ready is None else bool(ready()))

    @grpc_method
    async def ServerMetadata(
        self, request: pb.ServerMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerMetadataResponse:
        extensions = ["model_configuration", "model_repository", "statistics", "parameters"]
        if "streaming" in self._adapters:
            extensions.append("sequence")
        return pb.ServerMetadataResponse(
            name="seqserve", version=metadata.version("seqserve"), extensions=extensions
        )

    # ---- models --------------------------------------------------------------
    @grpc_method
    async def ModelReady(
        self, request: pb.ModelReadyRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelReadyResponse:
        try:
            handle = self._handle(request.name, request.version)
        except (NotFoundError, UnavailableError):
            return pb.ModelReadyResponse(ready=False)
        return pb.ModelReadyResponse(ready=handle.info.state == "READY")

    @grpc_method
    async def ModelMetadata(
        self, request: pb.ModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelMetadataResponse:
        handle, adapter = self.resolve(request.name, request.version)
        info = handle.info
        metadata = describe.model_metadata(info, adapter.signature(info), adapter.platform)
        # The versions a request may pin: those loaded (by version policy), not all on disk.
        loaded = [str(i.version) for i in self._models.list_models() if i.name == info.name]
        if loaded:
            del metadata.versions[:]
            metadata.versions.extend(loaded)
        return metadata

    @grpc_method
    async def ModelConfig(
        self, request: pb.ModelConfigRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelConfigResponse:
        handle, adapter = self.resolve(request.name, request.version)
        info = handle.info
        config = describe.model_config(info, adapter.signature(info), adapter.platform)
        return pb.ModelConfigResponse(config=config)

    @grpc_method
    async def ModelStatistics(
        self, request: pb.ModelStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelStatisticsResponse:
        if request.name:
            infos = [self._handle(request.name, request.version).info]
        else:
            infos = [i for i in self._models.list_models() if i.state == "READY"]
        return pb.ModelStatisticsResponse(
            model_stats=[
                describe.model_statistics(i, self.statistics.get(i.name, i.version))
                for i in infos
            ]
        )

    # ---- repository ----------------------------------------------------------
    def _control(self) -> ModelControl:
        if not (hasattr(self._models, "load") and hasattr(self._models, "unload")):
            raise UnavailableError("this server does not support repository control")
        return self._models  # type: ignore[return-value]

    @grpc_method
    async def RepositoryIndex(
        self, request: pb.RepositoryIndexRequest, context: grpc.aio.ServicerContext
    ) -> pb.RepositoryIndexResponse:
        index = pb.RepositoryIndexResponse.ModelIndex
        loaded_versions: dict[str, list[ModelInfo]] = {}
        for info in self._models.list_models():
            loaded_versions.setdefault(info.name, []).append(info)
        loaded = {name: infos[-1] for name, infos in loaded_versions.items()}
        repository = getattr(self._models, "repository", None)
        failed_models = getattr(self._models, "failed_models", None)
        failed = failed_models() if failed_models is not None else {}
        loading_models = getattr(self._models, "loading_models", None)
        loading = loading_models() if loading_models is not None else set()
        names = sorted(set(loaded) | set(repository.model_names() if repository else []))
        models = []
        for name in names:
            info = loaded.get(name)
            if info is not None:  # one entry per loaded version, as Triton lists them
                models += [index(name=name, version=str(i.version), state=i.state)
                           for i in loaded_versions[name]]
            elif name in loading:
                models.append(index(name=name, state="LOADING", reason="loading"))
            elif name in failed:
                models.append(index(name=name, state="FAILED", reason=failed[name]))
            elif not request.ready:
                models.append(index(name=name, state="UNAVAILABLE", reason="unloaded"))
        if request.ready:
            models = [m for m in models if m.state == "READY"]
        return pb.RepositoryIndexResponse(models=models)

    @grpc_method
    async def RepositoryModelLoad(
        self, request: pb.RepositoryModelLoadRequest, context: grpc.aio.ServicerContext
    ) -> pb.RepositoryModelLoadResponse:
        control = self._control()
        name = plain_model_name(request.model_name)
        version = requested_version(request.parameters)
        # Loading reads files and builds ONNX Runtime sessions: never on the event loop.
        try:
            await asyncio.to_thread(control.load, name, version)
        except SeqServeError:
            raise
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise InvalidArgumentError(
                f"failed to load '{name}': {type(exc).__name__}"
            ) from exc
        self._forget(name)  # a reload starts with no open sequences
        return pb.RepositoryModelLoadResponse()

    @grpc_method
    async def RepositoryModelUnload(
        self, request: pb.RepositoryModelUnloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.RepositoryModelUnloadResponse:
        control = self._control()
        name = plain_model_name(request.model_name)
        await asyncio.to_thread(control.unload, name)
        self._forget(name)
        return pb.RepositoryModelUnloadResponse()

    def _forget(self, name: str) -> None:
        for adapter in self._adapters.values():
            adapter.forget(name)


def add_kserve_servicer(server: grpc.aio.Server, models: ModelLookup) -> KServeServicer:
    servicer = KServeServicer(models)
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, server)
    return servicer
