"""Client side of TLS, mTLS and bearer tokens: one place that builds a channel's security.

    security = ClientSecurity.from_options(tls_ca=..., token=...)
    channel = connect(target, security=security)     # client/channel.py

Every client of this package takes `security=` and passes it to connect().

With TLS the token travels as call credentials on the channel (every call
carries it); gRPC refuses call credentials on a plaintext channel, so there
the token goes as per-call metadata (fine on loopback; anywhere else use TLS).
The token may come from a file or $SEQSERVE_TOKEN, so it never has to sit on
a command line.
"""

from __future__ import annotations

import argparse
import os
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

TOKEN_ENV = "SEQSERVE_TOKEN"
ChannelOption = tuple[str, Any]
LOCUST_PREFIX = "grpc-"
"""The load test's options are --grpc-tls-ca etc.: locust owns --tls-cert/--tls-key."""


@dataclass(frozen=True)
class ClientSecurity:
    tls_ca: bytes | None = None
    client_cert: bytes | None = None
    client_key: bytes | None = None
    token: str | None = None
    server_name: str | None = None
    """Override of the name checked against the server certificate."""

    @classmethod
    def from_options(
        cls, *, tls_ca: Path | None = None, tls_cert: Path | None = None,
        tls_key: Path | None = None, token: str | None = None, token_file: Path | None = None,
        server_name: str | None = None, tls: bool = False,
    ) -> ClientSecurity:
        if token_file is not None:
            token = token_file.read_text(encoding="utf-8").strip()
        token = token or os.environ.get(TOKEN_ENV) or None
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        ca = tls_ca.read_bytes() if tls_ca else None
        cert = tls_cert.read_bytes() if tls_cert else None
        key = tls_key.read_bytes() if tls_key else None
        if (tls or cert) and ca is None:
            ca = b""  # TLS with the system roots
        return cls(ca, cert, key, token, server_name)

    @property
    def uses_tls(self) -> bool:
        return self.tls_ca is not None

    def metadata(self) -> list[tuple[str, str]]:
        """Per-call metadata for plaintext channels (empty when TLS carries the token)."""
        if self.token and not self.uses_tls:
            return [("authorization", f"Bearer {self.token}")]
        return []

    def channel_credentials(self) -> grpc.ChannelCredentials:
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.tls_ca or None, private_key=self.client_key,
            certificate_chain=self.client_cert,
        )
        if self.token:
            creds = grpc.composite_channel_credentials(
                creds, grpc.access_token_call_credentials(self.token)
            )
        return creds

    def channel_options(self, options: Sequence[ChannelOption] = ()) -> list[ChannelOption]:
        """`options` plus the certificate name override, when one is set."""
        if self.server_name:
            return [*options, ("grpc.ssl_target_name_override", self.server_name)]
        return list(options)

    def channel(self, target: str, options: Sequence[ChannelOption] = ()) -> grpc.Channel:
        """A channel whose every call carries the token (metadata added by an interceptor
        on plaintext; call credentials with TLS)."""
        if self.uses_tls:
            return grpc.secure_channel(
                target, self.channel_credentials(), self.channel_options(options)
            )
        channel = grpc.insecure_channel(target, options=list(options))
        if not self.token:
            return channel
        return grpc.intercept_channel(channel, _BearerMetadata(self.metadata()))

    def aio_channel(
        self, target: str, options: Sequence[ChannelOption] = ()
    ) -> grpc.aio.Channel:
        if self.uses_tls:
            return grpc.aio.secure_channel(
                target, self.channel_credentials(), self.channel_options(options)
            )
        return grpc.aio.insecure_channel(target, options=list(options), interceptors=(
            [_AioBearerMetadata(self.metadata())] if self.token else None
        ))


class _BearerMetadata(
    grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor,
):
    """Adds the authorization metadata to every call of a plaintext channel."""

    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.extra = metadata

    def _details(self, details: Any) -> Any:
        return _CallDetails(details.method, details.timeout,
                            [*(details.metadata or ()), *self.extra], details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


class _CallDetails(
    namedtuple("_CallDetails", "method timeout metadata credentials wait_for_ready compression"),
    grpc.ClientCallDetails,
):
    pass


_OPTIONS = ("tls_ca", "tls_cert", "tls_key", "tls_server_name", "token_file")


def add_client_security_arguments(p: Any, prefix: str = "") -> None:
    """The client's TLS and token options on an argparse parser (or argument group).

    `prefix` (e.g. "grpc-") keeps them apart from a host program's own options:
    locust has --tls-cert/--tls-key of its own, for its web UI."""
    dash = f"--{prefix}"
    p.add_argument(f"{dash}tls", action="store_true", help="TLS with the system's root CAs")
    p.add_argument(f"{dash}tls-ca", type=Path, help="PEM CA that signed the server certificate")
    p.add_argument(f"{dash}tls-cert", type=Path, help="client certificate (mTLS)")
    p.add_argument(f"{dash}tls-key", type=Path, help="client private key (mTLS)")
    p.add_argument(f"{dash}tls-server-name", help="name to check in the server certificate")
    p.add_argument(f"{dash}token-file", type=Path,
                   help=f"file holding the bearer token (or set ${TOKEN_ENV})")


def forwarded_security_arguments(args: argparse.Namespace, prefix: str = "") -> list[str]:
    """The options of add_client_security_arguments again, for a delegated parser."""
    dest = prefix.replace("-", "_")
    forwarded = [f"--{prefix}tls"] if getattr(args, f"{dest}tls") else []
    for option in _OPTIONS:
        value = getattr(args, dest + option)
        if value is not None:
            forwarded += [f"--{prefix}{option.replace('_', '-')}", str(value)]
    return forwarded


def client_security_from_args(args: argparse.Namespace, prefix: str = "") -> ClientSecurity:
    dest = prefix.replace("-", "_")

    def value(option: str) -> Any:
        return getattr(args, dest + option)

    return ClientSecurity.from_options(
        tls_ca=value("tls_ca"), tls_cert=value("tls_cert"), tls_key=value("tls_key"),
        token_file=value("token_file"), server_name=value("tls_server_name"), tls=value("tls"),
    )


class _AioBearerMetadata(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor, grpc.aio.StreamStreamClientInterceptor,
):
    """The asyncio twin of _BearerMetadata."""

    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.extra = metadata

    def _details(self, details: Any) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self.extra)
        return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata,
                                          details.credentials, details.wait_for_ready)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)

    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any
                                      ) -> Any:
        return await continuation(self._details(details), requests)
