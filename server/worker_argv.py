"""The `seqserve serve` command line of one worker of `--workers N`.

Rebuilt from the parent's resolved settings (flags, SEQSERVE_* variables and
the --config file already merged) by walking the serve parser itself, so every
serve option (TLS, tokens, limits, session store, ...) reaches the workers,
including options added later, with no list to keep in step. Each worker gets
its own --port/--metrics-port from the supervisor.
"""

from __future__ import annotations

import argparse

from seqserve.server.serve_settings import serve_subparser

_PER_WORKER = {"workers", "port", "metrics_port", "config", "help", "handler", "command"}
"""Set per worker by the supervisor, or already folded into the values."""


def worker_argv(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    argv: list[str] = []
    for action in serve_subparser(parser)._actions:
        if action.dest in _PER_WORKER or not action.option_strings:
            continue
        value = getattr(args, action.dest, action.default)
        if value is None or value == action.default:
            continue  # the worker's own default is the same value
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
            argv.append(flag)
        elif isinstance(value, list | tuple):
            argv += [flag, *(str(v) for v in value)]
        else:
            argv += [flag, str(value)]
    return argv
