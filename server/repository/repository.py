"""A model repository on disk: <root>/<name>/<version>/config.yaml + files.

Versions are positive integer directory names; a version directory without a
config.yaml (e.g. one still being written by export/) is not a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqserve.server.errors import NotFoundError
from seqserve.server.repository.config import CONFIG_FILE, load_config
from seqserve.server.repository.names import is_plain


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    path: Path
    config: Any
    """The validated config.yaml of the model's kind (see repository/schemas.py)."""


class ModelRepository:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def model_names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def versions(self, name: str) -> list[int]:
        if not is_plain(name):
            return []  # never a path outside the repository (see names.py)
        model_dir = self.root / name
        try:
            if not model_dir.is_dir():
                return []
        except OSError:  # e.g. ENAMETOOLONG, EACCES: no such model as far as clients go
            return []
        return sorted(
            int(p.name)
            for p in model_dir.iterdir()
            if p.is_dir() and p.name.isdigit() and int(p.name) > 0 and (p / CONFIG_FILE).is_file()
        )

    def resolve(self, name: str, version: int | None = None) -> ModelVersion:
        """The given version, or the latest when None; NotFoundError names what exists."""
        available = self.versions(name)
        if not available:
            raise NotFoundError(
                f"model '{name}' not found in repository (models: {self.model_names()})"
            )
        chosen = available[-1] if version is None else version
        if chosen not in available:
            raise NotFoundError(
                f"model '{name}' has no version {chosen} (versions: {available})"
            )
        path = self.root / name / str(chosen)
        config = load_config(path)
        if config.name != name:
            # The directory name is what clients call; a mismatch is a packaging bug.
            config = config.model_copy(update={"name": name})
        return ModelVersion(name=name, version=chosen, path=path, config=config)
