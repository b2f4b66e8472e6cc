"""Decode request messages ourselves, so an undecodable one is INVALID_ARGUMENT.

grpc.aio runs a method's request deserializer before any servicer code, and a
failure there (truncated bytes, a wrong wire type, invalid UTF-8 in a string
field) ends the call as UNKNOWN with a Python exception text. This interceptor
swaps each of our methods' handlers for one that receives the raw bytes and
parses them itself: a message that does not parse is refused with
INVALID_ARGUMENT naming the method, and a large message is parsed on a worker
thread so the event loop (health checks, every other RPC) never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

OFF_LOOP_BYTES = 1 << 20
"""Messages at least this large are parsed on a worker thread."""

Deserializer = Callable[[bytes], Any]


async def decode_request(
    raw: bytes, deserialize: Deserializer, method: str, context: grpc.aio.ServicerContext
) -> Any:
    try:
        if len(raw) >= OFF_LOOP_BYTES:
            return await asyncio.to_thread(deserialize, raw)
        return deserialize(raw)
    except (DecodeError, UnicodeDecodeError, ValueError) as exc:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{method}: the request is not a valid protobuf message "
            f"({type(exc).__name__}: {str(exc)[:200]})",
        )
        raise  # unreachable: abort raises


def _decoded_stream(
    raw_requests: AsyncIterator[bytes], deserialize: Deserializer, method: str,
    context: grpc.aio.ServicerContext,
) -> AsyncIterator[Any]:
    async def requests() -> AsyncIterator[Any]:
        async for raw in raw_requests:
            yield await decode_request(raw, deserialize, method, context)

    return requests()


def _unary_request(
    behaviour: Callable[..., Any], deserialize: Deserializer, method: str
) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(behaviour):
        async def unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            request = await decode_request(raw, deserialize, method, context)
            return await behaviour(request, context)

        return unary

    async def streamed(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        request = await decode_request(raw, deserialize, method, context)
        async for response in behaviour(request, context):
            yield response

    return streamed


def _stream_request(
    behaviour: Callable[..., Any], deserialize: Deserializer, method: str
) -> Callable[..., Any]:
    # grpc.aio tells a coroutine handler from a generator one by its function type.
    if asyncio.iscoroutinefunction(behaviour):
        async def unary(raw_requests: AsyncIterator[bytes], context: Any) -> Any:
            decoded = _decoded_stream(raw_requests, deserialize, method, context)
            return await behaviour(decoded, context)

        return unary

    async def streamed(raw_requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[Any]:
        decoded = _decoded_stream(raw_requests, deserialize, method, context)
        async for response in behaviour(decoded, context):
            yield response

    return streamed


def raw_bytes_handler(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """The same method, receiving bytes and decoding them with `decode_request`."""
    deserialize = handler.request_deserializer
    if deserialize is None:
        return handler
    serialize = handler.response_serializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _unary_request(handler.unary_unary, deserialize, method),
            response_serializer=serialize,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _unary_request(handler.unary_stream, deserialize, method),
            response_serializer=serialize,
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _stream_request(handler.stream_unary, deserialize, method),
            response_serializer=serialize,
        )
    return grpc.stream_stream_rpc_method_handler(
        _stream_request(handler.stream_stream, deserialize, method),
        response_serializer=serialize,
    )


class RequestDecodingInterceptor(grpc.aio.ServerInterceptor):
    """Applies `raw_bytes_handler` to the methods of the services named by prefix."""

    def __init__(self, service_prefixes: tuple[str, ...]) -> None:
        self.prefixes = tuple(f"/{prefix}" for prefix in service_prefixes)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if handler is None or not method.startswith(self.prefixes):
            return handler
        # Not cached: a handler another interceptor made may be per call.
        return raw_bytes_handler(handler, method.rsplit("/", 1)[-1])
