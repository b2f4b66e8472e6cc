"""Per-client ceilings: unary RPCs in flight, streams open, live sessions (opened with
OpenSession, or by a Predict stream with keep, whose session outlives the stream).

A client is its token's name when tokens are on, else the common name of its
mTLS client certificate, else its peer address without the port (every
connection from one host counts together). Each
client has its own counters, so one client at its ceiling is refused
(RESOURCE_EXHAUSTED naming the limit) while every other client is served.

The interface other parts use is acquire/release by client identity:

    limits.acquire(client, "streams")   # raises LimitExceeded at the ceiling
    limits.release(client, "streams")
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from seqserve.server.api.rpc_wrap import behaviour_of, rebuild, wrap_handler
from seqserve.server.api.security_settings import ClientLimitSettings

KINDS = ("rpcs", "streams", "sessions")
_FLAGS = {"rpcs": "--max-client-rpcs", "streams": "--max-client-streams",
          "sessions": "--max-client-sessions"}


class LimitExceeded(Exception):
    def __init__(self, client: str, kind: str, ceiling: int) -> None:
        super().__init__(
            f"client '{client}' is at its limit of {ceiling} {kind} "
            f"({_FLAGS[kind]}); finish or close some first"
        )
        self.kind = kind


class ClientLimits:
    def __init__(self, settings: ClientLimitSettings) -> None:
        self.ceilings = {"rpcs": settings.max_rpcs, "streams": settings.max_streams,
                         "sessions": settings.max_sessions}
        self._counts: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    def acquire(self, client: str, kind: str) -> None:
        ceiling = self.ceilings[kind]
        with self._lock:
            if ceiling and self._counts[client, kind] >= ceiling:
                raise LimitExceeded(client, kind, ceiling)
            self._counts[client, kind] += 1

    def release(self, client: str, kind: str) -> None:
        with self._lock:
            left = self._counts[client, kind] - 1
            if left > 0:
                self._counts[client, kind] = left
            else:
                self._counts.pop((client, kind), None)

    def in_use(self, client: str, kind: str) -> int:
        with self._lock:
            return self._counts.get((client, kind), 0)


def client_identity(context: grpc.aio.ServicerContext) -> str:
    """Without a token: the mTLS client certificate's common name, else the peer host."""
    names = (context.auth_context() or {}).get("x509_common_name") or []
    if names:
        return "cert:" + names[0].decode("utf-8", "replace")
    return peer_host(context.peer() or "unknown")


def peer_host(peer: str) -> str:
    """'ipv4:127.0.0.1:5555' -> 'ipv4:127.0.0.1'; '[::1]' forms keep their brackets."""
    head, _, tail = peer.rpartition(":")
    return head if head and tail.isdigit() else peer


_OPEN = "/seqserve.v1.SeqServe/OpenSession"
_CLOSE = "/seqserve.v1.SeqServe/CloseSession"
_PREDICT = "/seqserve.v1.SeqServe/Predict"

SessionAlive = Callable[[str, int, str], bool]
"""(model, version, session_id) -> whether the session still exists (not closed or expired)."""


class _SessionBook:
    """Which sessions each client opened with OpenSession; expired ones are pruned lazily."""

    def __init__(self, limits: ClientLimits, alive: SessionAlive) -> None:
        self.limits = limits
        self.alive = alive
        self.owned: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)

    def reserve(self, client: str, model: str, sid: str) -> bool:
        """Take a session slot (LimitExceeded at the ceiling), after dropping dead
        sessions; False when `sid` is a live session this client already holds (its
        reopen or reattach takes no second slot, and is not refused at the ceiling)."""
        for (owned_model, owned_sid), version in list(self.owned.get(client, {}).items()):
            if not self.alive(owned_model, version, owned_sid):
                self.forget(client, owned_model, owned_sid)
        if sid and (model, sid) in self.owned.get(client, {}):
            return False
        self.limits.acquire(client, "sessions")
        return True

    def record(self, client: str, model: str, version: int, sid: str, took: bool) -> None:
        sessions = self.owned[client]
        if took and (model, sid) in sessions:  # the same session opened again: one slot
            self.limits.release(client, "sessions")
        sessions[model, sid] = version

    def unreserve(self, client: str, took: bool) -> None:
        """The call ended without a session: give back the slot reserve took."""
        if took:
            self.limits.release(client, "sessions")

    def forget(self, client: str, model: str, sid: str) -> None:
        sessions = self.owned.get(client)
        if sessions and sessions.pop((model, sid), None) is not None:
            self.limits.release(client, "sessions")
            if not sessions:
                del self.owned[client]


class ClientLimitsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self, limits: ClientLimits, *,
        identify: Callable[[grpc.HandlerCallDetails], str | None],
        session_alive: SessionAlive | None = None,
    ) -> None:
        self.limits = limits
        self.identify = identify
        self.sessions = _SessionBook(limits, session_alive or (lambda *_: True))

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith("/grpc."):
            return handler  # probes and reflection are not counted
        token_client = self.identify(handler_call_details)
        kind = "streams" if handler.request_streaming or handler.response_streaming else "rpcs"
        counts_sessions = bool(self.limits.ceilings["sessions"]) and method in (_OPEN, _CLOSE)
        limits, book = self.limits, self.sessions
        if self.limits.ceilings["sessions"] and method == _PREDICT:
            handler = _counting_kept_sessions(
                handler, book, lambda context: token_client or client_identity(context))
        if not self.limits.ceilings[kind] and not counts_sessions:
            return handler

        @contextlib.asynccontextmanager
        async def around(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[list[Any]]:
            client = token_client or client_identity(context)
            try:
                limits.acquire(client, kind)
            except LimitExceeded as exc:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
            try:
                if counts_sessions and method == _OPEN:
                    took = False
                    try:
                        took = book.reserve(client, request.model, request.session_id)
                    except LimitExceeded as exc:
                        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
                    seen: list[Any] = []
                    try:
                        yield seen
                    except BaseException:
                        book.unreserve(client, took)
                        raise
                    if not seen:  # the call ended without a session
                        book.unreserve(client, took)
                    else:
                        book.record(client, request.model, request.version,
                                    seen[0].session_id, took)
                else:
                    yield []
                    if counts_sessions:
                        book.forget(client, request.model, request.session_id)
            finally:
                limits.release(client, kind)

        return wrap_handler(handler, around)


def _counting_kept_sessions(
    handler: grpc.RpcMethodHandler, book: _SessionBook,
    client_of: Callable[[grpc.aio.ServicerContext], str],
) -> grpc.RpcMethodHandler:
    """A Predict stream whose open sets `keep` leaves its session behind when it ends,
    so it takes a session slot like OpenSession: without this, one client could park
    sessions without limit (open with keep, one step, end the stream, again) and take
    every slot of the model while never holding more than one stream."""
    inner = behaviour_of(handler)
    if not inspect.isasyncgenfunction(inner):
        return handler

    async def behaviour(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
                        ) -> AsyncIterator[Any]:
        first = await anext(aiter(requests), None)
        spec = first.open if first is not None and first.WhichOneof("message") == "open" else None
        if spec is None or not spec.keep:
            async for response in inner(_prepended(first, requests), context):
                yield response
            return
        client = client_of(context)
        took = False
        try:
            took = book.reserve(client, spec.model, spec.session_id)
        except LimitExceeded as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        session_id = ""
        try:
            async for response in inner(_prepended(first, requests), context):
                session_id = session_id or response.session_id
                yield response
        finally:
            if session_id:  # the session outlives the stream: its slot stays taken
                book.record(client, spec.model, spec.version, session_id, took)
            else:  # refused before a session existed
                book.unreserve(client, took)

    return rebuild(handler, behaviour)


async def _prepended(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    if first is None:
        return
    yield first
    async for item in rest:
        yield item
