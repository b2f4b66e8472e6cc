"""Per-client ceilings: unary RPCs in flight, streams open, live sessions.

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
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from seqserve.server.api.rpc_wrap import wrap_handler
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

SessionAlive = Callable[[str, int, str], bool]
"""(model, version, session_id) -> whether the session still exists (not closed or expired)."""


class _SessionBook:
    """Which sessions each client opened with OpenSession; expired ones are pruned lazily."""

    def __init__(self, limits: ClientLimits, alive: SessionAlive) -> None:
        self.limits = limits
        self.alive = alive
        self.owned: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)

    def reserve(self, client: str) -> None:
        """Take a session slot (LimitExceeded at the ceiling), after dropping dead sessions."""
        for (model, sid), version in list(self.owned.get(client, {}).items()):
            if not self.alive(model, version, sid):
                self.forget(client, model, sid)
        self.limits.acquire(client, "sessions")

    def record(self, client: str, model: str, version: int, sid: str) -> None:
        sessions = self.owned[client]
        if (model, sid) in sessions:  # the same session opened again: one slot
            self.limits.release(client, "sessions")
        sessions[model, sid] = version

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
        if not self.limits.ceilings[kind] and not counts_sessions:
            return handler
        limits, book = self.limits, self.sessions

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
                    try:
                        book.reserve(client)
                    except LimitExceeded as exc:
                        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
                    seen: list[Any] = []
                    try:
                        yield seen
                    except BaseException:
                        limits.release(client, "sessions")
                        raise
                    if not seen:  # the call ended without a session
                        limits.release(client, "sessions")
                    else:
                        book.record(client, request.model, request.version, seen[0].session_id)
                else:
                    yield []
                    if counts_sessions:
                        book.forget(client, request.model, request.session_id)
            finally:
                limits.release(client, kind)

        return wrap_handler(handler, around)
