"""The grpc.aio server's channel options, built in one place from ResourceLimits.

Each option bounds what one client can make the server hold: message and
metadata sizes, streams per connection, and how often a client may ping.
"""

from __future__ import annotations

from seqserve.server.api.security_settings import ResourceLimits


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def grpc_server_options(limits: ResourceLimits) -> list[tuple[str, int]]:
    options = [
        ("grpc.max_receive_message_length", limits.max_receive_message_bytes),
        ("grpc.max_send_message_length", limits.max_send_message_bytes),
        # Soft and hard limit alike: between them gRPC refuses at random.
        ("grpc.max_metadata_size", limits.max_metadata_bytes),
        ("grpc.absolute_max_metadata_size", limits.max_metadata_bytes),
        ("grpc.max_concurrent_streams", limits.max_concurrent_streams),
        # Keepalive enforcement: the server pings idle connections and drops
        # the dead ones; a client pinging faster than the minimum interval is
        # sent GOAWAY instead of making the server answer ping floods.
        ("grpc.keepalive_time_ms", _ms(limits.keepalive_time_seconds)),
        ("grpc.keepalive_timeout_ms", _ms(limits.keepalive_timeout_seconds)),
        ("grpc.http2.min_ping_interval_without_data_ms", _ms(limits.keepalive_min_ping_seconds)),
        ("grpc.http2.min_recv_ping_interval_without_data_ms",
         _ms(limits.keepalive_min_ping_seconds)),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.keepalive_permit_without_calls", 1),
        # Linux SO_REUSEPORT would let a second server bind a busy
        # port and silently share its traffic; fail to start instead.
        ("grpc.so_reuseport", 0),
    ]
    if limits.max_connection_idle_seconds > 0:
        options.append(("grpc.max_connection_idle_ms", _ms(limits.max_connection_idle_seconds)))
    return options
