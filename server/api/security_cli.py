"""The `seqserve serve` options of security_settings.py, and `seqserve tokens add`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqserve.server.api.security_settings import (
    ClientLimitSettings,
    ResourceLimits,
    SecuritySettings,
    TlsFiles,
)


def add_security_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("security (README: Security)")
    g.add_argument("--tls-cert", type=Path, help="PEM server certificate (chain); enables TLS")
    g.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    g.add_argument("--tls-client-ca", type=Path,
                   help="PEM CA bundle; clients must present a certificate it signed (mTLS)")
    g.add_argument("--tokens-file", type=Path,
                   help="hashed bearer tokens with roles (seqserve tokens add); enables auth")
    g.add_argument("--protect-probes", action="store_true",
                   help="health and reflection need a token too (default: open for probes)")
    g.add_argument("--metrics-host", help="bind /metrics here instead of --host")
    g.add_argument("--metrics-tls", action="store_true",
                   help="serve /metrics over https with the --tls-* files")
    g.add_argument("--max-client-rpcs", type=int, default=0, metavar="N",
                   help="unary RPCs in flight per client (token or peer host); 0 = unlimited")
    g.add_argument("--max-client-streams", type=int, default=0, metavar="N",
                   help="streaming RPCs open per client; 0 = unlimited")
    g.add_argument("--max-client-sessions", type=int, default=0, metavar="N",
                   help="live sessions per client (OpenSession, and Predict streams opened "
                        "with keep, whose session outlives the stream); 0 = unlimited")
    defaults = ResourceLimits()
    g.add_argument("--max-message-bytes", type=int, default=defaults.max_receive_message_bytes,
                   help="largest request message (default %(default)s)")
    g.add_argument("--max-metadata-bytes", type=int, default=defaults.max_metadata_bytes)
    g.add_argument("--max-streams-per-connection", type=int,
                   default=defaults.max_concurrent_streams)
    g.add_argument("--min-ping-interval", type=float, default=defaults.keepalive_min_ping_seconds,
                   help="seconds; clients pinging faster get GOAWAY (default %(default)s)")
    g.add_argument("--max-connection-idle", type=float, default=0.0,
                   help="close connections idle this many seconds; 0 = never")
    g.add_argument("--stream-idle-timeout", type=float, default=0.0,
                   help="end client streams silent for this many seconds; 0 = never")


def _tls(args: argparse.Namespace) -> TlsFiles | None:
    if args.tls_cert is None and args.tls_key is None:
        if args.tls_client_ca is not None or args.metrics_tls:
            raise ValueError("--tls-client-ca and --metrics-tls need --tls-cert and --tls-key")
        return None
    if args.tls_cert is None or args.tls_key is None:
        raise ValueError("--tls-cert and --tls-key go together")
    return TlsFiles(args.tls_cert, args.tls_key, args.tls_client_ca)


def security_from_args(args: argparse.Namespace) -> SecuritySettings:
    for name in ("max_client_rpcs", "max_client_streams", "max_client_sessions"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
    if args.max_message_bytes <= 0:
        raise ValueError("--max-message-bytes must be > 0")
    tls = _tls(args)
    if args.tokens_file is not None and not args.tokens_file.is_file():
        raise ValueError(f"--tokens-file {args.tokens_file}: no such file")
    return SecuritySettings(
        tls=tls,
        tokens_file=args.tokens_file,
        open_probes=not args.protect_probes,
        metrics_host=args.metrics_host,
        metrics_tls=tls if args.metrics_tls else None,
        limits=ResourceLimits(
            max_receive_message_bytes=args.max_message_bytes,
            max_metadata_bytes=args.max_metadata_bytes,
            max_concurrent_streams=args.max_streams_per_connection,
            keepalive_min_ping_seconds=args.min_ping_interval,
            max_connection_idle_seconds=args.max_connection_idle,
            stream_idle_seconds=args.stream_idle_timeout,
        ),
        client_limits=ClientLimitSettings(
            max_rpcs=args.max_client_rpcs, max_streams=args.max_client_streams,
            max_sessions=args.max_client_sessions,
        ),
    )


def add_tokens_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("tokens", help="manage the hashed bearer tokens file")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="make a new token, print it once, store its hash")
    add.add_argument("--file", type=Path, required=True, help="the --tokens-file of the server")
    add.add_argument("--role", choices=("infer", "admin"), required=True)
    add.add_argument("--name", help="a name for logs and limits (default token-N)")
    add.set_defaults(handler=_cmd_tokens_add)


def _cmd_tokens_add(args: argparse.Namespace) -> int:
    from seqserve.server.api.tokens_file import add_token

    try:
        token, entry = add_token(args.file, role=args.role, name=args.name)
    except (OSError, ValueError) as exc:
        print(f"seqserve tokens add: error: {exc}", file=sys.stderr)
        return 1
    print(f"# token '{entry.name}' (role {entry.role}) added to {args.file}; "
          "it is shown only now:", file=sys.stderr)
    print(token)
    return 0
