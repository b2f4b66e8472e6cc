"""Who is calling: the hook session isolation (and per-client limits) key on.

`caller_identity(context)` is the credential's identity when there is one:
what an authentication interceptor bound for this RPC (`bind_caller`, e.g. the
bearer token's name), else a verified TLS client certificate's subject. None
means an anonymous caller; sessions then fall back to server-issued tokens.
"""

from __future__ import annotations

from contextvars import ContextVar

import grpc

_CALLER: ContextVar[str | None] = ContextVar("seqserve_caller", default=None)


def bind_caller(identity: str | None) -> None:
    """For an auth interceptor: the identity of the RPC being handled (its task's context)."""
    _CALLER.set(identity)


def caller_identity(context: grpc.aio.ServicerContext | None) -> str | None:
    bound = _CALLER.get()
    if bound:
        return bound
    if context is None:
        return None
    try:
        auth = context.auth_context() or {}
    except Exception:  # not a secure channel, or a test double
        return None
    names = auth.get("x509_common_name") or auth.get("x509_subject_alternative_name")
    if names:
        first = names[0]
        return "x509:" + (first.decode() if isinstance(first, bytes) else str(first))
    return None


def peer_host(peer: str) -> str:
    """'ipv4:127.0.0.1:5555' -> 'ipv4:127.0.0.1'."""
    head, _, tail = peer.rpartition(":")
    return head if head and tail.isdigit() else peer


def caller_namespace(context: grpc.aio.ServicerContext | None) -> str:
    """The identity, else the peer host: what shared names (KServe sequence ids) live in."""
    identity = caller_identity(context)
    if identity:
        return "id:" + identity
    peer = context.peer() if context is not None else ""
    return "peer:" + peer_host(peer or "unknown")


_NAMESPACE: ContextVar[str] = ContextVar("seqserve_caller_namespace", default="")


def bind_namespace(context: grpc.aio.ServicerContext | None) -> None:
    """Record this RPC's caller namespace for code below it that has no context."""
    _NAMESPACE.set(caller_namespace(context))


def current_namespace() -> str:
    return _NAMESPACE.get()
