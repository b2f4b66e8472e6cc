"""What the servicers need from the engine's ModelManager, as a Protocol.

api/ codes against this instead of importing the manager, so servicers are
tested with a small fake and the engine can change behind the interface.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, overload

from seqserve.server.engine.handle import ModelInfo
from seqserve.server.errors import NotFoundError
from seqserve.server.kinds import KindSpec

H = TypeVar("H")


class ModelLookup(Protocol):
    @overload
    def get(self, name: str, version: int | None, kind: None = None) -> Any: ...

    @overload
    def get(self, name: str, version: int | None, kind: KindSpec[H]) -> H: ...

    def get(self, name: str, version: int | None, kind: KindSpec[Any] | None = None) -> Any:
        """A ready model; NotFoundError for unknown name/version, UnavailableError if not
        ready; with `kind`, that kind's typed handle, or its one WrongKindError
        (INVALID_ARGUMENT) when the model is of another kind (KindSpec.check)."""
        ...

    def list_models(self) -> list[ModelInfo]:
        """Every known model (whatever its state) with its metadata."""
        ...


def find_model_info(models: ModelLookup, name: str, version: int | None) -> ModelInfo:
    """Metadata of `name` at `version` (None = latest), even for a model that is not ready.

    list_models() first, so GetModel can report LOADING/FAILED models that
    get() would refuse; get() for versions the listing does not carry (and to
    raise the engine's own NotFoundError for unknown names).
    """
    listed = [info for info in models.list_models() if info.name == name]
    if version is None and listed:
        return max(listed, key=lambda info: info.version)
    for info in listed:
        if info.version == version:
            return info
    info = models.get(name, version).info
    if info.name != name:  # a manager bug, but never report another model's metadata
        raise NotFoundError(f"model {name!r} not found")
    return info
