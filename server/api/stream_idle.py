"""End client-streaming RPCs whose client sends nothing for too long.

A Predict (or PredictMany, ModelStreamInfer) stream that opens and then goes
silent holds a connection slot and, once opened, a session; after
`--stream-idle-timeout` seconds without a message from the client, reading
the next request raises DeadlineExceededError, which the servicers' error
table turns into DEADLINE_EXCEEDED naming the setting (their own cleanup,
such as closing the session, runs as for any other failed stream).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from seqserve.server.api.rpc_wrap import behaviour_of, rebuild
from seqserve.server.errors import DeadlineExceededError


async def idle_bounded(requests: AsyncIterator[Any], seconds: float) -> AsyncIterator[Any]:
    iterator = aiter(requests)
    while True:
        try:
            message = await asyncio.wait_for(anext(iterator), seconds)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise DeadlineExceededError(
                f"no message from the client for {seconds:g} s (--stream-idle-timeout)"
            ) from None
        yield message


class StreamIdleInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or not handler.request_streaming or \
                handler_call_details.method.startswith("/grpc."):
            return handler
        inner = behaviour_of(handler)
        if not (inspect.isasyncgenfunction(inner) or inspect.iscoroutinefunction(inner)):
            return handler
        seconds = self.seconds
        if inspect.isasyncgenfunction(inner):
            async def stream_behaviour(requests: Any, context: grpc.aio.ServicerContext
                                       ) -> AsyncIterator[Any]:
                async for response in inner(idle_bounded(requests, seconds), context):
                    yield response

            return rebuild(handler, stream_behaviour)

        async def unary_behaviour(requests: Any, context: grpc.aio.ServicerContext) -> Any:
            return await inner(idle_bounded(requests, seconds), context)

        return rebuild(handler, unary_behaviour)
