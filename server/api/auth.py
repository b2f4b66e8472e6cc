"""Bearer-token authentication with roles, as a grpc.aio server interceptor.

Every call carries `authorization: Bearer <token>`; the token's SHA-256 is
looked up in the tokens file (re-read when it changes, at most once a
second). Roles: `infer` reaches inference, sessions, metadata and health;
`admin` reaches everything, including repository load/unload. A method this
table does not know needs admin, so a new RPC is closed until classified.
Health and reflection stay open by default: probes and grpcurl carry no token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc

from seqserve.server.api.caller import bind_caller
from seqserve.server.api.rpc_wrap import Around, abort_handler, wrap_handler
from seqserve.server.api.tokens_file import TokenEntry, digest, parse_tokens

logger = logging.getLogger(__name__)

_KSERVE = "/inference.GRPCInferenceService/"
_SEQSERVE = "/seqserve.v1.SeqServe/"

PROBE_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
PROBE_METHODS = frozenset({_KSERVE + "ServerLive", _KSERVE + "ServerReady"})
ADMIN_METHODS = frozenset({_KSERVE + "RepositoryModelLoad", _KSERVE + "RepositoryModelUnload"})
INFER_METHODS = frozenset(
    [_SEQSERVE + name for name in (
        "Translate", "TranslateStream", "ListModels", "GetModel", "Tag", "Caption", "Predict",
        "OpenSession", "PredictStep", "CloseSession", "GetSession", "PredictMany",
    )]
    + [_KSERVE + name for name in (
        "ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata",
        "ModelInfer", "ModelStreamInfer", "ModelConfig", "ModelStatistics", "RepositoryIndex",
    )]
    + [prefix + name for prefix in PROBE_PREFIXES[:1] for name in ("Check", "Watch")]
    + [prefix + "ServerReflectionInfo" for prefix in PROBE_PREFIXES[1:]]
)


def is_probe(method: str) -> bool:
    return method in PROBE_METHODS or method.startswith(PROBE_PREFIXES)


def required_role(method: str) -> str:
    if method in ADMIN_METHODS or method not in INFER_METHODS:
        return "admin"
    return "infer"


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class TokenStore:
    """The tokens file, reloaded when its mtime changes (checked at most once a second)."""

    CHECK_SECONDS = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries = parse_tokens(path.read_text(encoding="utf-8"), str(path))
        self._mtime = os.stat(path).st_mtime_ns
        self._checked = time.monotonic()
        if not self._entries:
            logger.warning("%s holds no tokens: every protected call will be refused", path)

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.CHECK_SECONDS:
            return
        with self._lock:
            self._checked = now
            try:
                mtime = os.stat(self.path).st_mtime_ns
                if mtime == self._mtime:
                    return
                self._entries = parse_tokens(self.path.read_text(encoding="utf-8"),
                                             str(self.path))
                self._mtime = mtime
                logger.info("tokens reloaded from %s (%d tokens)", self.path, len(self._entries))
            except (OSError, ValueError) as exc:
                logger.error("cannot reload %s (keeping the old tokens): %s", self.path, exc)

    def lookup(self, token: str) -> TokenEntry | None:
        self._refresh()
        return self._entries.get(digest(token))


def client_of(details: grpc.HandlerCallDetails, tokens: TokenStore | None) -> str | None:
    """The identity the per-client limits count by: the token's name, if any."""
    if tokens is None:
        return None
    token = bearer_token(details.invocation_metadata)
    entry = tokens.lookup(token) if token else None
    return f"token:{entry.name}" if entry else None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, tokens: TokenStore, *, open_probes: bool = True) -> None:
        self.tokens = tokens
        self.open_probes = open_probes

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or (self.open_probes and is_probe(method)):
            return handler  # unknown methods stay UNIMPLEMENTED
        token = bearer_token(handler_call_details.invocation_metadata)
        if token is None:
            return abort_handler(handler, grpc.StatusCode.UNAUTHENTICATED,
                                 "missing bearer token: send 'authorization: Bearer <token>'")
        entry = self.tokens.lookup(token)
        if entry is None:
            return abort_handler(handler, grpc.StatusCode.UNAUTHENTICATED, "unknown bearer token")
        needed = required_role(method)
        if needed == "admin" and entry.role != "admin":
            return abort_handler(
                handler, grpc.StatusCode.PERMISSION_DENIED,
                f"{method} needs the admin role; token '{entry.name}' has role '{entry.role}'",
            )
        return wrap_handler(handler, _as_caller(f"token:{entry.name}"))


def _as_caller(identity: str) -> Around:
    """Bind the token's name as the RPC's caller (caller.py) inside the handler's own
    task: sessions opened with this token belong to it, whatever connection it uses."""

    @contextlib.asynccontextmanager
    async def around(request: object, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        bind_caller(identity)
        yield None

    return around
