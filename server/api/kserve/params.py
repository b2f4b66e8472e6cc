"""Request parameters (InferParameter maps) -> plain Python values, with typed getters.

Clients send the same option in different types (perf_analyzer sends
sequence_id as int64, tritonclient as uint64 or string; a beam size may come
as int64 or, from a JSON-minded client, as double): the getters accept every
type that can carry the value exactly and name the parameter otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.errors import InvalidArgumentError

Value = bool | int | float | str

# Parameters Triton defines and its clients send (tritonclient, perf_analyzer):
# accepted whatever the model, even where seqserve has no use for them.
TRITON_PARAMETERS = frozenset({
    "sequence_id", "sequence_start", "sequence_end", "priority", "timeout",
    "binary_data_output", "triton_enable_empty_final_response", "headers",
})
TRITON_PREFIX = "triton_"
"""Triton reserves this prefix for its own parameters."""
KIND_PARAMETERS = frozenset({"top_k"})
"""Parameters one kind reads beyond the decoding options (the streaming top_k)."""


def accepted_parameters() -> frozenset[str]:
    """Every request parameter some model reads: Triton's, the kinds' own, and every
    DecodingOptions field (so a new decoding option is accepted as soon as it exists)."""
    decoding = {f.name for f in dataclasses.fields(DecodingOptions)}
    return TRITON_PARAMETERS | KIND_PARAMETERS | decoding


def check_known(keys: Iterable[str], model: str) -> None:
    """Refuse a parameter nobody reads (a typo such as `beamsize` must not be ignored)."""
    accepted = accepted_parameters()
    unknown = sorted(k for k in keys if k not in accepted and not k.startswith(TRITON_PREFIX))
    if unknown:
        listed = ", ".join(f"'{k[:64]}'" for k in unknown[:5])
        raise InvalidArgumentError(
            f"unknown request parameter {listed} for model '{model}'; accepted: "
            f"{', '.join(sorted(accepted))} (and any '{TRITON_PREFIX}*')"
        )


_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
"""ASCII digits only ("²" is a digit to str.isdigit, not to int()), at most an int64's."""


def parse_integer(text: str) -> int | None:
    """`text` as an int64, or None when it is not one ("--1", 5,000 digits, "²")."""
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**64 else None


def parameters_dict(params: Mapping[str, pb.InferParameter]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, param in params.items():
        which = param.WhichOneof("parameter_choice")
        if which is not None:
            out[key] = getattr(param, which)
    return out


class Parameters:
    """Typed, checked access to one request's parameters."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = dict(values)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def int(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise InvalidArgumentError(f"parameter '{key}' must be an integer, got a bool")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and (parsed := parse_integer(value)) is not None:
            return parsed
        raise InvalidArgumentError(f"parameter '{key}' must be an integer, got {_shown(value)}")

    def float(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise InvalidArgumentError(f"parameter '{key}' must be a number, got a bool")
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(value)
        except ValueError:
            raise InvalidArgumentError(
                f"parameter '{key}' must be a number, got {_shown(value)}"
            ) from None

    def bool(self, key: str) -> bool | None:
        value = self.values.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidArgumentError(f"parameter '{key}' must be a bool, got {value!r}")

    def str(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None or isinstance(value, str):
            return value
        raise InvalidArgumentError(f"parameter '{key}' must be a string, got {value!r}")

    def texts(self, key: str) -> tuple[str, ...]:
        """A string option that may hold several texts: a JSON list of strings, or one text."""
        value = self.str(key)
        if value is None:
            return ()
        if not value.lstrip().startswith("["):
            return (value,)
        try:
            items = json.loads(value)
        except ValueError:
            raise InvalidArgumentError(
                f"parameter '{key}' starts with '[' but is not a JSON list of strings"
            ) from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidArgumentError(f"parameter '{key}' must be a JSON list of strings")
        return tuple(items)

    def sequence_id(self) -> str | None:
        """sequence_id as a string key; 0 and "" mean "no sequence", as in Triton."""
        value = self.values.get("sequence_id")
        if value is None or isinstance(value, bool):
            return None if value is None else _bad_sequence_id(value)
        if isinstance(value, int):
            return None if value == 0 else str(value)
        if isinstance(value, str):
            return value or None
        return _bad_sequence_id(value)


def _bad_sequence_id(value: Value) -> str:
    raise InvalidArgumentError(
        f"sequence_id must be an unsigned integer or a string, got {value!r}"
    )


def _shown(value: Value) -> str:
    # A 5,000-character value must not come back whole in the error message.
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
