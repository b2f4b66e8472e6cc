"""Predict (bidirectional stream) and the unary session RPCs: convert, delegate, convert back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import session_convert as sc
from seqserve.server.api.convert import validate_model_ref
from seqserve.server.api.deadline import deadline_of
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.session_access import SessionAccess
from seqserve.server.api.stream_drain import StreamRegistry
from seqserve.server.engine.sessions.session_info import SessionInfo
from seqserve.server.errors import DrainingError, InvalidArgumentError, NotFoundError
from seqserve.server.kinds import STREAMING, StreamingHandle


def resume_from(spec: pb.OpenSessionRequest) -> int | None:
    return spec.resume_from if spec.HasField("resume_from") else None


def opened_info(
    handle: StreamingHandle, info: SessionInfo, token: str, top_k: int = 0
) -> pb.SessionInfo:
    """SessionInfo of an open, with the replayed outputs when the open asked for them."""
    message = sc.session_info(handle.info.name, handle.info.version, info)
    message.session_token = token
    if info.replay is not None:
        message.replay.CopyFrom(
            sc.predict_response(handle.result(info.session_id, info.replay, top_k))
        )
    return message


class SessionMethods:
    """The session RPCs of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup
    streams: StreamRegistry
    session_access: SessionAccess

    def _streaming(self, model: str, version: int) -> StreamingHandle:
        handle = self._models.get(model, validate_model_ref(model, version), kind=STREAMING)
        bind_model(handle.info.name)
        return handle

    @grpc_method
    async def Predict(
        self, requests: AsyncIterator[pb.PredictRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PredictResponse]:
        requests = self.streams.guard(requests)
        first = await anext(requests, None)
        if first is None:
            return
        if first.WhichOneof("message") != "open":
            raise InvalidArgumentError("the first Predict message must be `open`")
        spec = first.open
        handle = self._streaming(spec.model, spec.version)
        access = self.session_access.for_open(context, spec.session_token)
        opened = handle.open(
            spec.session_id or None, attach=True, resume_from=resume_from(spec),
            owner=access.owner, new_owner=access.new_owner,
        )
        token = access.token_for(opened.created)
        sid = opened.session_id
        try:
            yield pb.PredictResponse(
                session_id=sid, position=opened.position, first_step=opened.position,
                session=opened_info(handle, opened, token, first.top_k),
            )
            async for request in requests:
                if request.WhichOneof("message") != "chunk":
                    raise InvalidArgumentError("only the first Predict message may be `open`")
                result = await handle.predict(
                    sid, sc.chunk_from_proto(request.chunk), top_k=request.top_k
                )
                yield sc.predict_response(result)
        except DrainingError:
            # The UNAVAILABLE goes out only once the drain saved this session.
            await self.streams.wait_saved()
            raise
        finally:
            # Whatever ended the stream (client done, disconnect, bad chunk),
            # the session is closed now unless the client asked to keep it.
            if spec.keep:
                handle.detach(sid)
            else:
                # NotFound: expired or closed meanwhile (unary CloseSession).
                with contextlib.suppress(NotFoundError):
                    handle.close(sid, reason="stream_ended")

    @grpc_method
    async def OpenSession(
        self, request: pb.OpenSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SessionInfo:
        handle = self._streaming(request.model, request.version)
        access = self.session_access.for_open(context, request.session_token)
        info = handle.open(
            request.session_id or None, attach=False, resume_from=resume_from(request),
            owner=access.owner, new_owner=access.new_owner,
        )
        return opened_info(handle, info, access.token_for(info.created))

    @grpc_method
    async def PredictStep(
        self, request: pb.PredictStepRequest, context: grpc.aio.ServicerContext
    ) -> pb.PredictResponse:
        handle = self._streaming(request.model, request.version)
        if not request.session_id:
            raise InvalidArgumentError("session_id is required (OpenSession returns one)")
        result = await handle.predict(
            request.session_id, sc.chunk_from_proto(request.chunk), top_k=request.top_k,
            owner=self.session_access.for_call(context, request.session_token),
            deadline=deadline_of(context),
        )
        return sc.predict_response(result)

    @grpc_method
    async def CloseSession(
        self, request: pb.SessionRef, context: grpc.aio.ServicerContext
    ) -> pb.SessionInfo:
        handle = self._streaming(request.model, request.version)
        owner = self.session_access.for_call(context, request.session_token)
        info = handle.session(request.session_id, owner)
        handle.close(request.session_id, owner=owner)
        return sc.session_info(handle.info.name, handle.info.version, info)

    @grpc_method
    async def GetSession(
        self, request: pb.SessionRef, context: grpc.aio.ServicerContext
    ) -> pb.SessionInfo:
        handle = self._streaming(request.model, request.version)
        owner = self.session_access.for_call(context, request.session_token)
        return sc.session_info(
            handle.info.name, handle.info.version, handle.session(request.session_id, owner)
        )
