"""The parameters of RepositoryModelLoad: which are honoured, which are refused.

`version` (an integer, as int64 or string) loads that version instead of the
latest. Triton's `config` (a JSON config override) and `file:<path>` (model
files sent in the request) are refused with a reason: seqserve serves only
what is in its repository, so the files on disk are the one source of truth.
"""

from __future__ import annotations

from collections.abc import Mapping

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.api.kserve.params import parse_integer
from seqserve.server.errors import InvalidArgumentError

ACCEPTED = ("version",)


def requested_version(parameters: Mapping[str, pb.ModelRepositoryParameter]) -> int | None:
    """The version to load (None: the latest); refuses what this server does not honour."""
    for key in parameters:
        if key == "config" or key.startswith("file:"):
            raise InvalidArgumentError(
                f"RepositoryModelLoad parameter '{key[:64]}' is not supported: seqserve loads "
                f"models only from its repository (edit config.yaml there instead)"
            )
        if key not in ACCEPTED:
            raise InvalidArgumentError(
                f"unknown RepositoryModelLoad parameter '{key[:64]}' (accepted: "
                f"{', '.join(ACCEPTED)})"
            )
    if "version" not in parameters:
        return None
    param = parameters["version"]
    which = param.WhichOneof("parameter_choice")
    value = getattr(param, which) if which else None
    if isinstance(value, str):
        value = parse_integer(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgumentError(
            "RepositoryModelLoad parameter 'version' must be a positive integer"
        )
    return value
