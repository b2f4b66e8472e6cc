"""Build a replacement RpcMethodHandler of the same shape as the real one.

Interceptors use this to refuse a call (abort_handler) or to run code around
it (wrap_handler). grpc.aio dispatches on the behaviour's function type
(coroutine vs async generator), so a wrapper is made of the same type.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

_FACTORIES = {
    (False, False): (grpc.unary_unary_rpc_method_handler, "unary_unary"),
    (False, True): (grpc.unary_stream_rpc_method_handler, "unary_stream"),
    (True, False): (grpc.stream_unary_rpc_method_handler, "stream_unary"),
    (True, True): (grpc.stream_stream_rpc_method_handler, "stream_stream"),
}

Around = Callable[[Any, grpc.aio.ServicerContext], Any]
"""An async context manager factory: around(request_or_iterator, context); for unary
responses it may yield a list, and the response is appended to it before it exits."""


def rebuild(handler: grpc.RpcMethodHandler, behaviour: Any) -> grpc.RpcMethodHandler:
    factory, _ = _FACTORIES[(handler.request_streaming, handler.response_streaming)]
    return factory(behaviour, request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)


def behaviour_of(handler: grpc.RpcMethodHandler) -> Any:
    _, attribute = _FACTORIES[(handler.request_streaming, handler.response_streaming)]
    return getattr(handler, attribute)


def abort_handler(
    handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler:
    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(code, message)

    return rebuild(handler, refuse)


def wrap_handler(handler: grpc.RpcMethodHandler, around: Around) -> grpc.RpcMethodHandler:
    """Run the real behaviour inside `async with around(request, context)`."""
    inner = behaviour_of(handler)
    if not (inspect.isasyncgenfunction(inner) or inspect.iscoroutinefunction(inner)):
        return handler  # a sync behaviour runs in a thread pool: left as it is
    if inspect.isasyncgenfunction(inner):
        async def stream_behaviour(request: Any, context: grpc.aio.ServicerContext
                                   ) -> AsyncIterator[Any]:
            async with around(request, context):
                async for response in inner(request, context):
                    yield response

        return rebuild(handler, stream_behaviour)

    async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with around(request, context) as seen:
            response = await inner(request, context)
            if seen is not None:  # the wrapper asked to see the unary response
                seen.append(response)
            return response

    return rebuild(handler, behaviour)
