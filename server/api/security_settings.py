"""The security and resource settings of `seqserve serve`, one frozen dataclass.

Everything is off by default (plaintext, no tokens, no per-client limits) so
the development commands of the README keep working; the Security section of
the README says how to turn each part on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    client_ca: Path | None = None
    """When set, clients must present a certificate signed by this CA (mTLS)."""


@dataclass(frozen=True)
class ResourceLimits:
    """Bounds of the gRPC server itself (see server_options.py)."""

    max_receive_message_bytes: int = 16 * 1024 * 1024
    max_send_message_bytes: int = 64 * 1024 * 1024
    max_metadata_bytes: int = 16 * 1024
    max_concurrent_streams: int = 1024
    """Per HTTP/2 connection."""
    keepalive_min_ping_seconds: float = 10.0
    """Clients pinging more often than this get GOAWAY (too_many_pings)."""
    keepalive_time_seconds: float = 60.0
    """The server pings idle connections this often and drops dead ones."""
    keepalive_timeout_seconds: float = 20.0
    max_connection_idle_seconds: float = 0.0
    """Close connections without an RPC for this long; 0 keeps them."""
    stream_idle_seconds: float = 0.0
    """Cancel a Predict/PredictMany/ModelStreamInfer stream whose client sends nothing
    for this long (DEADLINE_EXCEEDED); 0 disables it."""


@dataclass(frozen=True)
class ClientLimitSettings:
    """Per-client (token, or peer address without auth) ceilings; 0 = unlimited."""

    max_rpcs: int = 0
    """Unary RPCs in flight at once."""
    max_streams: int = 0
    """Streaming RPCs open at once."""
    max_sessions: int = 0
    """Live sessions opened with OpenSession and not closed or expired."""

    @property
    def enabled(self) -> bool:
        return bool(self.max_rpcs or self.max_streams or self.max_sessions)


@dataclass(frozen=True)
class SecuritySettings:
    tls: TlsFiles | None = None
    tokens_file: Path | None = None
    """Hashed bearer tokens with roles (`seqserve tokens add`); None = no auth."""
    open_probes: bool = True
    """Health and reflection answer without a token (load balancers, grpcurl)."""
    metrics_host: str | None = None
    """Bind /metrics to this address instead of the gRPC host."""
    metrics_tls: TlsFiles | None = None
    limits: ResourceLimits = ResourceLimits()
    client_limits: ClientLimitSettings = ClientLimitSettings()
