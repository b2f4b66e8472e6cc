"""KindSpec: everything the server, both APIs and both CLIs know about one model kind.

Every piece that would pull heavy or upper-layer imports (ONNX Runtime engines,
protobuf builders, torch trainers) is a dotted "module:attribute" string,
resolved on first use: importing the registry stays cheap, and server/ never
imports torch (models/ and export/ read the same specs for their CLIs).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from seqserve.server.errors import WrongKindError

if TYPE_CHECKING:
    from seqserve.server.engine.handle import ModelInfo

H = TypeVar("H")


def resolve(dotted: str) -> Any:
    """"package.module:attribute" -> the attribute (imports the module)."""
    module, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class KindSpec(Generic[H]):
    name: str
    """The kind's one name: config.yaml `kind`, ModelMetadata.kind (MODEL_KIND_<NAME>),
    the KServe platform (seqserve_<name>) and the registry key."""
    handle: type[H]
    """The Protocol api/ codes against (ModelLookup.get(..., kind=spec) returns one)."""
    serves: str
    """The seqserve.v1 RPCs that take this kind, for the wrong-kind message."""
    config_schema: str
    """The pydantic class that validates config.yaml (repository/)."""
    engine: str
    """The loaded-model class: Engine(ModelVersion, policy=..., available_versions=...)."""
    kserve_adapter: str
    """The KServe v2 adapter class (api/kserve/kinds.py's KindAdapter)."""
    details: tuple[str, str]
    """(ModelMetadata `details` oneof field, dotted builder ModelInfo -> message)."""
    server_policies: Mapping[str, str]
    """`seqserve serve --policy` values this kind honours -> what they mean for it. A
    value missing here refuses the model's load (never silently ignored)."""
    train: str | None = None
    """`seqserve train <name> ARGV`: dotted main(kind, argv) -> exit code; None: the
    plain `seqserve train --corpus ...` form trains it."""
    export: str | None = None
    """`seqserve export <name> ARGV`, as `train`; None: plain `seqserve export --run`."""
    aliases: tuple[str, ...] = field(default=())
    """Older names config files on disk may still carry (read as `name`)."""

    @property
    def platform(self) -> str:
        return f"seqserve_{self.name}"

    def check(self, info: ModelInfo) -> None:
        """The one wrong-kind error: `info` must be a model of this kind."""
        if info.kind != self.name:
            raise WrongKindError(
                f"model '{info.name}' is a {info.kind} model, not a {self.name} model "
                f"(needed by {self.serves})"
            )
