"""Writing `model_repository/<name>/<version>/` so that a half-written version is never served.

Everything is written into a hidden staging directory next to the final one
(same filesystem, and a name the repository scanner ignores since it is not a
number), checked there, and only then renamed into place: rename is atomic, so
a server scanning the repository sees either no version or a complete one. A
failed export removes its staging directory.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seqserve.server.repository.config import ModelConfig, dump_config, load_config


def next_version(model_dir: Path) -> int:
    """One more than the highest numbered version (1 for a new model)."""
    if not model_dir.is_dir():
        return 1
    numbers = [int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(numbers, default=0) + 1


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides win; nested mappings merge key by key so {"decoding": {"beam_size": 5}}
    changes one field instead of replacing the whole section."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_config(name: str, overrides: dict[str, Any] | None = None) -> ModelConfig:
    """ModelConfig for `name` with user overrides; pydantic names any bad key or value."""
    base = ModelConfig(name=name).model_dump(mode="json")
    return ModelConfig.model_validate(_deep_merge(base, {**(overrides or {}), "name": name}))


def write_config(version_dir: Path, config: ModelConfig) -> ModelConfig:
    """dump_config, then read it back the way the server will and insist on equality."""
    dump_config(config, version_dir)
    loaded = load_config(version_dir)
    if loaded != config:
        raise RuntimeError(f"{version_dir}: config.yaml does not round-trip through load_config")
    return loaded


def copy_tokenizers(
    version_dir: Path, source_sp: Path, target_sp: Path, config: ModelConfig
) -> None:
    shutil.copyfile(source_sp, version_dir / config.tokenizer.source)
    shutil.copyfile(target_sp, version_dir / config.tokenizer.target)


def _fsync_tree(directory: Path) -> None:
    """Flush file contents before the rename publishes them (a crash right after the
    rename must not leave a complete-looking version with empty files)."""
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


class StagedVersion:
    """A version directory under construction; `publish()` moves it into place."""

    def __init__(self, model_dir: Path, version: int) -> None:
        self.model_dir = model_dir
        self.version = version
        self.final = model_dir / str(version)
        self.path = model_dir / f".staging-{version}-{uuid.uuid4().hex[:8]}"
        self.published = False

    def publish(self) -> Path:
        if self.final.exists():
            raise FileExistsError(f"{self.final} appeared while exporting; nothing replaced")
        _fsync_tree(self.path)
        os.rename(self.path, self.final)
        fd = os.open(self.model_dir, os.O_RDONLY)
        try:
            os.fsync(fd)  # make the rename itself durable
        finally:
            os.close(fd)
        self.published = True
        return self.final


@contextmanager
def staged_version(repository: Path, name: str, version: int | None) -> Iterator[StagedVersion]:
    """Create the staging directory; remove it unless the body published it."""
    model_dir = Path(repository) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    number = next_version(model_dir) if version is None else version
    if number < 1:
        raise ValueError(f"version must be >= 1, got {number}")
    if (model_dir / str(number)).exists():
        raise FileExistsError(f"{model_dir / str(number)} already exists; pick another version")
    staged = StagedVersion(model_dir, number)
    staged.path.mkdir()
    try:
        yield staged
    finally:
        if not staged.published:
            shutil.rmtree(staged.path, ignore_errors=True)
