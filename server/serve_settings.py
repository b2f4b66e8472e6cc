"""`seqserve serve` settings from flags, SEQSERVE_* environment variables and a
settings file (YAML or TOML, `--config FILE`), so a container is configured
without a long command line. A flag wins over the environment, which wins
over the file, which wins over the flag's default.

The settings model is derived from the `serve` subparser's actions (dest,
type, choices, default, required): the parser stays the one list of serve
options, and a flag added there is a setting here with no other edit.

    # serve.yaml                      # or the same keys in serve.toml
    model_repository: /models
    port: 50051
    policy: continuous
    # SEQSERVE_PORT=50052 seqserve serve --config serve.yaml --log-level debug
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, ValidationError, create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "SEQSERVE_"
CONFIG_DEST = "config"
_NOT_SETTINGS = {"help", CONFIG_DEST}


class SettingsError(ValueError):
    """A setting is unknown, missing or invalid; the message names the key."""


# ---------------------------------------------------------------- the model


def _converter(action: argparse.Action) -> Callable[[Any], Any]:
    """Apply the flag's own argparse type to a value from the file or the environment."""
    convert = action.type
    assert callable(convert)

    def apply(value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        try:
            return convert(value if isinstance(value, str) else str(value))
        except (argparse.ArgumentTypeError, TypeError) as exc:
            raise ValueError(str(exc)) from exc

    return apply


def _annotation(action: argparse.Action) -> Any:
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction
                  | argparse.BooleanOptionalAction):
        return bool
    if isinstance(action, argparse._StoreConstAction):
        return Any  # the value is the flag's const, whatever its type
    if isinstance(action, argparse._CountAction):
        return int
    if action.choices is not None:
        scalar: Any = Literal[tuple(action.choices)]
    elif action.type in (None, str, int, float):
        scalar = action.type or str
    else:
        scalar = Annotated[Any, BeforeValidator(_converter(action))]
    many = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+") or (
        isinstance(action.nargs, int) and action.nargs > 1)
    annotation = list[scalar] if many else scalar
    return annotation | None if action.default is None and not action.required else annotation


def setting_actions(serve: argparse.ArgumentParser) -> list[argparse.Action]:
    """The serve subparser's options that are settings (not --help, not --config)."""
    return [a for a in serve._actions if a.dest not in _NOT_SETTINGS and a.option_strings]


def settings_model(
    actions: Sequence[argparse.Action], file_values: dict[str, Any]
) -> type[BaseSettings]:
    """A pydantic-settings model with one field per action; `file_values` below env."""

    class _FileSource(PydanticBaseSettingsSource):
        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
            return file_values.get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return dict(file_values)

    class _Base(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=False,
            protected_namespaces=(),  # `model_repository` is a setting, not pydantic's
        )

        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, **_: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Flags (passed as init values) > environment > file > defaults.
            return init_settings, env_settings, _FileSource(settings_cls)

    fields: dict[str, Any] = {}
    for action in actions:
        default = ... if action.required else action.default
        fields[action.dest] = (_annotation(action), default)
    return create_model("ServeSettingsFromSources", __base__=_Base, **fields)


# ---------------------------------------------------------------- the file


def read_settings_file(path: Path) -> dict[str, Any]:
    """A flat mapping of setting -> value; keys may use '-' or '_'."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"--config {path}: cannot read it ({exc.strerror})") from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise SettingsError(f"--config {path}: use a .yaml, .yml or .toml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"--config {path}: not valid {path.suffix[1:]}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"--config {path}: expected a mapping of settings at the top level")
    return {str(key).replace("-", "_"): value for key, value in data.items()}


# ---------------------------------------------------------------- parsing


def serve_subparser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "serve" in action.choices:
            return action.choices["serve"]
    raise LookupError("the parser has no `serve` subcommand")


def _explicit_flags(
    parser: argparse.ArgumentParser, serve: argparse.ArgumentParser, argv: Sequence[str]
) -> dict[str, Any]:
    """Only the flags given on the command line (argparse fills in nothing else)."""
    saved = [(a, a.default, a.required) for a in serve._actions]
    try:
        for action in serve._actions:
            action.default, action.required = argparse.SUPPRESS, False
        return vars(parser.parse_args(["serve", *argv]))
    finally:
        for action, default, required in saved:
            action.default, action.required = default, required


def _origin(name: str, flags: dict[str, Any], file_values: dict[str, Any],
            config: Path | None, option: str) -> str:
    if name in flags:
        return f"flag {option}"
    env = ENV_PREFIX + name.upper()
    if any(key.upper() == env for key in os.environ):
        return f"environment {env}"
    if name in file_values:
        return f"{config}: {name}"
    return f"{option} / {env} / settings file key {name}"


def _explain(exc: ValidationError, actions: Sequence[argparse.Action], flags: dict[str, Any],
             file_values: dict[str, Any], config: Path | None) -> str:
    options = {a.dest: a.option_strings[-1] for a in actions}
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name!r} in {config} "
                         f"(known: {', '.join(sorted(options))})")
            continue
        where = _origin(name, flags, file_values, config, options.get(name, name))
        if error["type"] == "missing":
            lines.append(f"setting {name!r} is required: give {where}")
            continue
        value = error.get("input")
        hint = ""
        if isinstance(value, str) and value.startswith("tcp://"):
            hint = (" (this looks like a Kubernetes service-link variable: set "
                    "enableServiceLinks: false on the pod, or rename the Service)")
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"setting {name!r} ({where}): {message}, got {value!r}{hint}")
    return "; ".join(lines)


def parse_serve(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse `seqserve serve ARGV` with the file and environment merged in.

    Returns the namespace argparse would give, every setting filled in; raises
    SettingsError naming the key when a setting is unknown, missing or invalid.
    """
    serve = serve_subparser(parser)
    actions = setting_actions(serve)
    explicit = _explicit_flags(parser, serve, argv)
    config = explicit.get(CONFIG_DEST)
    config_path = Path(config) if config else None
    file_values = read_settings_file(config_path) if config_path else {}
    setting_names = {a.dest for a in actions}
    flags = {k: v for k, v in explicit.items() if k in setting_names}
    model = settings_model(actions, file_values)
    try:
        settings = model(**flags)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, actions, flags, file_values, config_path)) from exc
    rest = {k: v for k, v in explicit.items() if k not in setting_names}
    rest.setdefault(CONFIG_DEST, None)
    return argparse.Namespace(**rest, **settings.model_dump())
