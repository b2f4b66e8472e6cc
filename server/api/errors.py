"""seqserve errors -> gRPC status codes, in one table, applied to every handler.

`@grpc_method` wraps a unary or server-streaming servicer method: a
SeqServeError becomes its status code with the error's message (written for
the client), anything else is a bug: INTERNAL, a generic message, and the
traceback in the server log. The same wrapper records the per-RPC metrics,
since it is the one place that sees the final status of every call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import grpc

from seqserve.server import errors
from seqserve.server.metrics import REQUEST_LATENCY, REQUESTS

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.SeqServeError], grpc.StatusCode] = {
    errors.NotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.UnavailableError: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.CancelledError: grpc.StatusCode.CANCELLED,
    errors.UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    errors.OutOfRangeError: grpc.StatusCode.OUT_OF_RANGE,
}

INTERNAL_MESSAGE = "internal error (the server log has the details)"

# The model label of this RPC's metrics. Handlers set it (bind_model) only once
# the name resolved to a loaded model: label values straight from requests
# would let any client grow the metric series without bound.
# The variable holds a mutable box, set once per RPC: tasks an RPC spawns (PredictMany
# answers each request in its own task) copy the context, so they share the box
# and their bind_model labels the RPC itself, not just the task.
class _ModelLabel:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = ""


_MODEL_LABEL: ContextVar[_ModelLabel] = ContextVar("seqserve_model_label")


def bind_model(name: str) -> None:
    """Label the current RPC's metrics with `name` (a model that exists). The
    first model bound names the RPC (a PredictMany stream may reach several)."""
    label = _MODEL_LABEL.get(None)
    if label is None:  # called outside a grpc_method (tests, helpers)
        label = _ModelLabel()
        _MODEL_LABEL.set(label)
    if not label.name:
        label.name = name


def bound_model() -> str:
    """The current RPC's model label ("" until a model resolved)."""
    label = _MODEL_LABEL.get(None)
    return label.name if label is not None else ""


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The status code of an exception: its nearest class in the table, else INTERNAL."""
    for cls in type(exc).__mro__:
        if issubclass(cls, errors.SeqServeError) and cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return grpc.StatusCode.INTERNAL


class _CallRecord:
    """Times one RPC and records its final status exactly once."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.start = time.perf_counter()
        self.label = _ModelLabel()
        _MODEL_LABEL.set(self.label)  # each RPC runs in its own task/context; start clean

    def finish(self, code: grpc.StatusCode) -> None:
        model = self.label.name
        REQUESTS.labels(model, self.method, code.name).inc()
        REQUEST_LATENCY.labels(model, self.method).observe(time.perf_counter() - self.start)


def _interrupted_code(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    # grpc.aio cancels the handler task both when the client goes away and when
    # its deadline passes; the remaining time tells the two apart for metrics.
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED


def client_status(exc: BaseException, where: str) -> tuple[grpc.StatusCode, str]:
    """The status code and the message a client sees for `exc`. A bug (INTERNAL) gets
    a generic message, its traceback goes to the server log naming `where`."""
    code = status_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        logger.error("%s failed with an unexpected error", where, exc_info=exc)
        return code, INTERNAL_MESSAGE
    return code, bounded_message(str(exc) or code.name)


# Messages echo request values (a model name, a session id); the grpc-message
# trailer carrying them must stay under the client's metadata limit (8 KiB soft
# by default, and percent-encoding triples non-ASCII bytes), or the client sees
# RESOURCE_EXHAUSTED "Stream removed" instead of the real status.
MAX_MESSAGE_BYTES = 1000


def bounded_message(message: str) -> str:
    data = message.encode("utf-8", "replace")
    if len(data) <= MAX_MESSAGE_BYTES:
        return message
    head = data[: MAX_MESSAGE_BYTES - 40].decode("utf-8", "ignore")
    return f"{head}... (message cut at {MAX_MESSAGE_BYTES} of {len(data)} bytes)"


async def _abort(record: _CallRecord, context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """Record and abort the RPC for `exc`; always raises (grpc.aio.AbortError)."""
    code, message = client_status(exc, record.method)
    record.finish(code)
    await context.abort(code, message)


def _aborted_code(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


Req = TypeVar("Req")
Resp = TypeVar("Resp")
UnaryMethod = Callable[[Any, Req, grpc.aio.ServicerContext], Awaitable[Resp]]
StreamMethod = Callable[[Any, Req, grpc.aio.ServicerContext], AsyncGenerator[Resp, None]]


def grpc_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map errors to status codes and record metrics for one servicer method.

    The metric's `method` label is the function name, which is the RPC name.
    CancelledError (client gone, deadline passed) is re-raised untouched so
    grpc.aio and the engine see the cancellation.
    """
    if inspect.isasyncgenfunction(fn):
        return _wrap_stream(fn)
    if inspect.iscoroutinefunction(fn):
        return _wrap_unary(fn)
    raise TypeError(f"{fn.__qualname__}: expected an async def or async generator")


def _wrap_unary(fn: UnaryMethod[Req, Resp]) -> UnaryMethod[Req, Resp]:
    @functools.wraps(fn)
    async def unary(self: Any, request: Req, context: grpc.aio.ServicerContext) -> Resp:
        record = _CallRecord(fn.__name__)
        try:
            response = await fn(self, request, context)
        except asyncio.CancelledError:
            record.finish(_interrupted_code(context))
            raise
        except grpc.aio.AbortError:
            record.finish(_aborted_code(context))
            raise
        except Exception as exc:
            await _abort(record, context, exc)
            raise  # unreachable: abort raises; keeps the type checker honest
        record.finish(grpc.StatusCode.OK)
        return response

    return unary


def _wrap_stream(fn: StreamMethod[Req, Resp]) -> StreamMethod[Req, Resp]:
    @functools.wraps(fn)
    async def stream(
        self: Any, request: Req, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Resp, None]:
        record = _CallRecord(fn.__name__)
        inner = fn(self, request, context)
        try:
            async for item in inner:
                yield item
        except (asyncio.CancelledError, GeneratorExit):
            # GeneratorExit: grpc.aio closed the stream early (client gone).
            record.finish(_interrupted_code(context))
            raise
        except grpc.aio.AbortError:
            record.finish(_aborted_code(context))
            raise
        except Exception as exc:
            await _abort(record, context, exc)
            raise
        finally:
            # Close the handler (and through it the engine's stream) now, not
            # whenever the garbage collector gets to it: that frees its rows.
            await inner.aclose()
        record.finish(grpc.StatusCode.OK)

    return stream
