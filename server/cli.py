"""The `seqserve` console script.

    seqserve serve --model-repository DIR [--host H --port P --metrics-port M --policy ...]
    seqserve client translate --target HOST:PORT --model NAME [--beam-size N ...] "text" ...
    seqserve client tag|caption|stream ...   (see client/commands.py)
    seqserve train ...   /   seqserve export ...   (need the `train` extra: torch)

Nothing is parsed or imported heavily at import time: the parser is built in
main(), the engine (ONNX Runtime) is imported only by `serve`, and torch only
by the delegated train/export commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path

# Subcommands owned by other packages: `seqserve train ARGS` runs
# `seqserve.models.cli.main(ARGS)`. Listed for --help, dispatched before
# argparse so their own options reach them untouched.
_DELEGATED = {
    "train": ("seqserve.models.cli", "train a model (PyTorch)"),
    "export": ("seqserve.export.cli", "export a trained model to a model directory (ONNX)"),
    "loadtest": ("seqserve.client.loadtest.cli", "load-test a server with locust, SLO-gated"),
}
_POLICIES = ("continuous", "static", "sequential")
_LOG_LEVELS = ("debug", "info", "warning", "error")


def _delegate(command: str, argv: list[str]) -> int:
    module_name, _ = _DELEGATED[command]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if (exc.name or "").startswith("seqserve"):
            print(
                f"seqserve {command}: {module_name} is missing from this install", file=sys.stderr
            )
        else:
            print(
                f"seqserve {command} needs the training extra ({exc.name} is not installed): "
                "pip install 'seqserve[train]'",
                file=sys.stderr,
            )
        return 2
    return int(module.main(argv) or 0)


def _existing_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: not a directory")
    return path


def _port(value: str, *, lowest: int = 0) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not lowest <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside [{lowest}, 65535]")
    return port


def _metrics_port(value: str) -> int:
    return _port(value, lowest=-1)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve", help="serve a model repository over gRPC",
        epilog="Every option is also a setting: SEQSERVE_<DEST> in the environment (e.g. "
        "SEQSERVE_MODEL_REPOSITORY) or a key of the --config file (e.g. model_repository). "
        "A flag wins over the environment, which wins over the file.",
    )
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="settings file (.yaml/.yml/.toml) with the options below as keys")
    p.add_argument("--model-repository", type=_existing_dir, required=True, metavar="DIR")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    p.add_argument("--port", type=_port, default=50051, help="gRPC port; 0 picks a free one")
    p.add_argument(
        "--metrics-port",
        type=_metrics_port,
        default=9090,
        help="Prometheus /metrics port on --host; 0 picks a free one, -1 disables",
    )
    p.add_argument("--policy", choices=_POLICIES, help="batching policy for every model")
    p.add_argument(
        "--grace", type=float, default=10.0, help="seconds in-flight RPCs get on shutdown"
    )
    p.add_argument(
        "--max-models", type=int, default=64, help="most models loaded at once (default 64)"
    )
    p.add_argument(
        "--session-tokens", choices=("off", "required"), default="required",
        help="required (default): an anonymous caller touches a session only with the "
        "session_token its open returned; off: legacy mode for clients that predate tokens, "
        "anyone who knows a session id may touch it (callers with credentials own their "
        "sessions either way)",
    )
    p.add_argument(
        "--pre-stop-delay", type=float, default=0.0, metavar="SECONDS",
        help="on shutdown, report NOT_SERVING this long before refusing new calls",
    )
    p.add_argument("--log-level", choices=_LOG_LEVELS, default="info")
    from seqserve.server.api.security_cli import add_security_arguments

    add_security_arguments(p)
    p.add_argument(
        "--session-store", metavar="SPEC",
        help="session store of every streaming model: memory, sqlite:PATH or "
        "redis://HOST:PORT/DB[?lease_seconds=S&ttl_seconds=S] (default: per config.yaml)",
    )
    p.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="server processes; worker i listens on --port+i (metrics on --metrics-port+i)",
    )
    p.set_defaults(handler=_cmd_serve)


def _add_client(commands: argparse._SubParsersAction) -> None:
    client = commands.add_parser("client", help="call a running server")
    calls = client.add_subparsers(dest="call", required=True, metavar="CALL")
    p = calls.add_parser("translate", help="translate sentences and print the hypotheses")
    p.add_argument("--target", default="127.0.0.1:50051", help="HOST:PORT of the server")
    p.add_argument("--model", required=True)
    p.add_argument("--version", type=int, default=0, help="model version; 0 = latest")
    p.add_argument("--beam-size", type=int)
    p.add_argument("--n-best", type=int)
    p.add_argument("--length-penalty", type=float)
    p.add_argument("--max-length", type=int)
    p.add_argument("--min-length", type=int)
    p.add_argument("--no-scores", action="store_true", help="do not ask for scores")
    p.add_argument("--stream", action="store_true", help="show partial hypotheses on stderr")
    p.add_argument("--timeout", type=float, default=30.0, help="deadline in seconds")
    p.add_argument("sentences", nargs="+", metavar="SENTENCE")
    from seqserve.client.security import add_client_security_arguments

    add_client_security_arguments(p)
    p.set_defaults(handler=_cmd_client_translate)
    from seqserve.client.commands import COMMANDS

    for name, help_text in COMMANDS.items():  # dispatched in main(), listed for --help
        calls.add_parser(name, help=help_text, add_help=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqserve", description="Serve recurrent sequence models over gRPC."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    _add_client(commands)
    from seqserve.server.api.security_cli import add_tokens_command

    add_tokens_command(commands)
    for name, (_, help_text) in _DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def _cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.workers < 1:
        print("seqserve serve: error: --workers must be >= 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        from seqserve.server.supervisor import supervise
        from seqserve.server.worker_argv import worker_argv

        child = worker_argv(build_parser(), args)
        return supervise(args.workers, child, args.port, args.metrics_port)
    from seqserve.server.api.security_cli import security_from_args
    from seqserve.server.app import ServeSettings, run
    from seqserve.server.errors import SeqServeError

    try:
        security = security_from_args(args)
    except ValueError as exc:
        print(f"seqserve serve: error: {exc}", file=sys.stderr)
        return 2
    settings = ServeSettings(
        model_repository=args.model_repository,
        host=args.host,
        port=args.port,
        metrics_port=args.metrics_port,
        policy=args.policy,
        grace_seconds=args.grace,
        max_models=args.max_models,
        security=security,
        pre_stop_seconds=args.pre_stop_delay,
        session_tokens=args.session_tokens == "required",
        session_store=args.session_store,
    )
    try:
        return run(settings)
    except (OSError, ValueError, SeqServeError) as exc:
        # Startup problems a user fixes (port busy, bad config.yaml): one line, no traceback.
        print(f"seqserve serve: error: {exc}", file=sys.stderr)
        return 1


def _format_score(value: float) -> str:
    return "" if math.isnan(value) else f"{value:9.4f}  "


def _cmd_client_translate(args: argparse.Namespace) -> int:
    import grpc

    from seqserve.client.translation_client import TranslateReply, TranslationClient
    from seqserve.client.types import DecodingOptions

    options = DecodingOptions(
        beam_size=args.beam_size,
        n_best=args.n_best,
        length_penalty=args.length_penalty,
        max_length=args.max_length,
        min_length=args.min_length,
        return_scores=not args.no_scores,
    )
    from seqserve.client.security import client_security_from_args

    security = client_security_from_args(args)
    with TranslationClient(args.target, timeout=args.timeout, security=security) as client:
        try:
            if args.stream:
                reply = None
                for event in client.translate_stream(
                    args.sentences, model=args.model, version=args.version, options=options
                ):
                    if isinstance(event, TranslateReply):
                        reply = event
                    else:
                        print(
                            f"  [{event.sentence_index}] step {event.step}: {event.text}",
                            file=sys.stderr,
                        )
                if reply is None:
                    print("error: the stream ended without a final result", file=sys.stderr)
                    return 1
            else:
                reply = client.translate(
                    args.sentences, model=args.model, version=args.version, options=options
                )
        except grpc.RpcError as exc:
            print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    print(f"# {reply.model} v{reply.version}")
    for index, (source, result) in enumerate(zip(args.sentences, reply.sentences, strict=True)):
        print(f"[{index}] {source}")
        for rank, hyp in enumerate(result.hypotheses, start=1):
            print(f"  {rank}. {_format_score(hyp.score)}{hyp.text}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:
        return _delegate(argv[0], argv[1:])
    if len(argv) > 1 and argv[0] == "client" and argv[1] in ("tag", "caption", "stream"):
        from seqserve.client.commands import run

        return run(argv[1], argv[2:])
    parser = build_parser()
    if argv and argv[0] == "serve" and not {"-h", "--help"} & set(argv):
        # Flags, SEQSERVE_* variables and the --config file, merged (serve_settings.py).
        from seqserve.server.serve_settings import SettingsError, parse_serve

        try:
            args = parse_serve(parser, argv[1:])
        except SettingsError as exc:
            print(f"seqserve serve: error: {exc}", file=sys.stderr)
            return 2
    else:
        args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":  # `python -m seqserve.server.cli ...`, as the test harness runs it
    sys.exit(main())
