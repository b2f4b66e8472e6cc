"""What SecuritySettings turn into on the gRPC server: interceptors and credentials.

Order of interceptors: authentication first (an unauthenticated call costs
nothing else), then the per-client limits (which count by token name).
"""

from __future__ import annotations

import grpc

from seqserve.server.api.auth import AuthInterceptor, TokenStore, client_of
from seqserve.server.api.client_limits import ClientLimits, ClientLimitsInterceptor
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.security_settings import SecuritySettings
from seqserve.server.api.stream_idle import StreamIdleInterceptor
from seqserve.server.api.tls import server_credentials


def _session_alive(models: ModelLookup):  # type: ignore[no-untyped-def]
    def alive(model: str, version: int, session_id: str) -> bool:
        try:
            handle = models.get(model, version or None)
            session = getattr(handle, "session", None)
            return session is None or bool(session(session_id))
        except Exception:  # unknown model, closed or expired session: gone
            return False

    return alive


def build_interceptors(security: SecuritySettings, models: ModelLookup) -> list[object]:
    interceptors: list[object] = []
    tokens = TokenStore(security.tokens_file) if security.tokens_file else None
    if tokens is not None:
        interceptors.append(AuthInterceptor(tokens, open_probes=security.open_probes))
    if security.client_limits.enabled:
        interceptors.append(ClientLimitsInterceptor(
            ClientLimits(security.client_limits),
            identify=lambda details: client_of(details, tokens),
            session_alive=_session_alive(models),
        ))
    if security.limits.stream_idle_seconds > 0:
        interceptors.append(StreamIdleInterceptor(security.limits.stream_idle_seconds))
    return interceptors


def bind(server: grpc.aio.Server, address: str, security: SecuritySettings) -> int:
    """add_secure_port with reloading certificates when TLS is set, else plaintext."""
    if security.tls is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, server_credentials(security.tls))
