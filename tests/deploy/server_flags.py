"""The `seqserve serve` flags and their defaults, as the deploy files must use them."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from seqserve.server import cli

_FIELDS = {"--port": "port", "--metrics-port": "metrics_port", "--grace": "grace_seconds"}


def serve_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices["serve"]


def serve_options() -> dict[str, argparse.Action]:
    return serve_parser()._option_string_actions


def serve_default(flag: str) -> Any:
    """The flag's default; when the parser leaves it to the settings (None), the
    ServeSettings default the server then uses."""
    default = serve_options()[flag].default
    if default is None and flag in _FIELDS:
        from seqserve.server.app import ServeSettings

        fields = {f.name: f.default for f in dataclasses.fields(ServeSettings)}
        default = fields[_FIELDS[flag]]
    return default
