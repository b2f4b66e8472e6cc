"""The one place that builds the client's gRPC channels.

Every client in this package (and the load-test users) gets its channel
from connect() or connect_aio(), so transport options (TLS, tokens, message
sizes) are added here once and reach every caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from seqserve.client.security import ChannelOption, ClientSecurity

DEFAULT_OPTIONS: tuple[ChannelOption, ...] = (
    # The server may answer with up to 64 MiB (server/app.py); gRPC's client
    # default would refuse anything over 4 MiB.
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
)


def channel_options(extra: Sequence[ChannelOption] = ()) -> list[ChannelOption]:
    """The defaults, with any `extra` option of the same name replacing its default."""
    names = {name for name, _ in extra}
    return [option for option in DEFAULT_OPTIONS if option[0] not in names] + list(extra)


def connect(
    address: str, *, options: Sequence[ChannelOption] = (),
    security: ClientSecurity | None = None,
) -> grpc.Channel:
    """A blocking channel to `address` (HOST:PORT); TLS and the token from `security`."""
    return (security or ClientSecurity()).channel(address, channel_options(options))


def connect_aio(
    address: str, *, options: Sequence[ChannelOption] = (),
    security: ClientSecurity | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel to `address`, for SessionMux and other async callers."""
    return (security or ClientSecurity()).aio_channel(address, channel_options(options))
