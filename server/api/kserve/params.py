"""Request parameters (InferParameter maps) -> plain Python values, with typed getters.

Clients send the same option in different types (perf_analyzer sends
sequence_id as int64, tritonclient as uint64 or string; a beam size may come
as int64 or, from a JSON-minded client, as double): the getters accept every
type that can carry the value exactly and name the parameter otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.errors import InvalidArgumentError

Value = bool | int | float | str

# An optional minus and ASCII digits (str.isdigit() takes "²", int() does not),
# short enough for int() (it refuses more than 4,300 digits).
_INTEGER = re.compile(r"-?[0-9]{1,18}")


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
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        raise InvalidArgumentError(f"parameter '{key}' must be an integer, got {value!r}")

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
                f"parameter '{key}' must be a number, got {value!r}"
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
