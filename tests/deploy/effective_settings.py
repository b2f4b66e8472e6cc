"""What `seqserve serve` would run with, given a container's args and environment:
the server's own flag/environment/file merge (server/serve_settings.py), so the
deploy files are checked against the real setting names and types."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from unittest import mock

from seqserve.server import cli
from seqserve.server.serve_settings import ENV_PREFIX, parse_serve


def effective_serve_args(
    args: list[str], env: dict[str, str], model_dir: Path
) -> argparse.Namespace:
    """Parse `seqserve ARGS` (ARGS starts with `serve`) under exactly the SEQSERVE_*
    variables of `env`; the container's model mount is replaced by `model_dir`, a
    directory that exists here (the flag checks it does)."""
    assert args[0] == "serve", args
    argv = list(args[1:])
    if "--model-repository" in argv:
        argv[argv.index("--model-repository") + 1] = str(model_dir)
    ours = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    with mock.patch.dict(os.environ, {**ours, **env}, clear=True):
        return parse_serve(cli.build_parser(), argv)
