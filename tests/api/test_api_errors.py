"""The error table and the @grpc_method wrapper, without a server."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest

from seqserve.server import errors
from seqserve.server.api.errors import (
    INTERNAL_MESSAGE,
    STATUS_BY_ERROR,
    bind_model,
    grpc_method,
    status_for,
)
from seqserve.server.metrics import REGISTRY

EXPECTED = {
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


@pytest.mark.parametrize(("cls", "code"), list(EXPECTED.items()), ids=lambda v: str(v))
def test_each_error_class_maps_to_its_code(cls, code):
    assert status_for(cls("boom")) is code


def test_every_concrete_error_class_is_in_the_table():
    concrete = set(errors.SeqServeError.__subclasses__())
    assert concrete == set(STATUS_BY_ERROR) == set(EXPECTED)


def test_subclasses_inherit_their_parents_code():
    class SessionNotFound(errors.NotFoundError):
        pass

    assert status_for(SessionNotFound("s1")) is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("exc", [RuntimeError("x"), KeyError("k"), errors.SeqServeError("bare")])
def test_anything_else_is_internal(exc):
    assert status_for(exc) is grpc.StatusCode.INTERNAL


class FakeContext:
    """The parts of grpc.aio.ServicerContext the wrapper uses."""

    def __init__(self, time_remaining: float | None = None) -> None:
        self.remaining = time_remaining
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    def time_remaining(self) -> float | None:
        return self.remaining

    def code(self) -> grpc.StatusCode | None:
        return self.aborted[0] if self.aborted else None

    async def abort(self, code: grpc.StatusCode, details: str = "") -> None:
        self.aborted = (code, details)
        raise grpc.aio.AbortError()


def count(method: str, code: str, model: str = "m") -> float:
    labels = {"model": model, "method": method, "code": code}
    return REGISTRY.get_sample_value("seqserve_requests_total", labels) or 0.0


class Servicer:
    def __init__(self, exc: BaseException | None = None) -> None:
        self.exc = exc

    @grpc_method
    async def UnaryRpc(self, request: str, context: FakeContext) -> str:
        bind_model("m")
        if self.exc is not None:
            raise self.exc
        return request.upper()

    @grpc_method
    async def StreamRpc(self, request: str, context: FakeContext):
        bind_model("m")
        yield "first"
        if self.exc is not None:
            raise self.exc
        yield "second"


def run_unary(servicer: Servicer, context: FakeContext) -> str:
    return asyncio.run(servicer.UnaryRpc("ok", context))


def run_stream(servicer: Servicer, context: FakeContext) -> list[str]:
    async def collect() -> list[str]:
        return [item async for item in servicer.StreamRpc("ok", context)]

    return asyncio.run(collect())


def test_unary_success_counts_ok():
    before = count("UnaryRpc", "OK")
    assert run_unary(Servicer(), FakeContext()) == "OK"
    assert count("UnaryRpc", "OK") == before + 1


def test_unary_error_aborts_with_code_and_message():
    context = FakeContext()
    before = count("UnaryRpc", "NOT_FOUND")
    with pytest.raises(grpc.aio.AbortError):
        run_unary(Servicer(errors.NotFoundError("model 'x' not found")), context)
    assert context.aborted == (grpc.StatusCode.NOT_FOUND, "model 'x' not found")
    assert count("UnaryRpc", "NOT_FOUND") == before + 1


def test_unary_bug_is_internal_with_generic_message_and_logged_traceback(caplog):
    context = FakeContext()
    with caplog.at_level(logging.ERROR), pytest.raises(grpc.aio.AbortError):
        run_unary(Servicer(ZeroDivisionError("secret")), context)
    assert context.aborted == (grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)
    record = next(r for r in caplog.records if r.exc_info)
    assert isinstance(record.exc_info[1], ZeroDivisionError)


@pytest.mark.parametrize(
    ("remaining", "code"), [(None, "CANCELLED"), (5.0, "CANCELLED"), (0.0, "DEADLINE_EXCEEDED")]
)
def test_unary_cancellation_propagates_and_is_counted(remaining, code):
    context = FakeContext(time_remaining=remaining)
    before = count("UnaryRpc", code)
    with pytest.raises(asyncio.CancelledError):
        run_unary(Servicer(asyncio.CancelledError()), context)
    assert context.aborted is None  # not turned into a status by us: grpc.aio owns it
    assert count("UnaryRpc", code) == before + 1


def test_stream_success_and_error_after_first_item():
    assert run_stream(Servicer(), FakeContext()) == ["first", "second"]
    context = FakeContext()
    before = count("StreamRpc", "RESOURCE_EXHAUSTED")
    with pytest.raises(grpc.aio.AbortError):
        run_stream(Servicer(errors.ResourceExhaustedError("full")), context)
    assert context.aborted == (grpc.StatusCode.RESOURCE_EXHAUSTED, "full")
    assert count("StreamRpc", "RESOURCE_EXHAUSTED") == before + 1


def test_stream_closed_early_counts_cancelled():
    async def take_one() -> None:
        stream = Servicer().StreamRpc("ok", FakeContext())
        assert await anext(stream) == "first"
        await stream.aclose()  # what grpc.aio does when the client goes away

    before = count("StreamRpc", "CANCELLED")
    asyncio.run(take_one())
    assert count("StreamRpc", "CANCELLED") == before + 1


def test_wrapper_rejects_sync_functions():
    with pytest.raises(TypeError):
        grpc_method(lambda self, request, context: None)
