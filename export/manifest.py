"""manifest.json: what a model directory contains and how it was checked.

sha256 of every file (so a server or an operator can tell a damaged or edited
version from the exported one), the exporter and library versions, and the
figures export measured: parity, beam-search verification, training metrics
and BLEU.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from seqserve.server.repository.config import MANIFEST_FILE

MANIFEST_FORMAT = 1
_LIBRARIES = ("seqserve", "torch", "onnx", "onnxscript", "onnxruntime-gpu", "onnxruntime")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(version_dir: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under version_dir except the manifest."""
    return {
        p.relative_to(version_dir).as_posix(): sha256_file(p)
        for p in sorted(version_dir.rglob("*"))
        if p.is_file() and p.relative_to(version_dir).as_posix() != MANIFEST_FILE
    }


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that made and will run the graphs."""
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # onnxruntime and onnxruntime-gpu are alternatives; one is absent
    return found


def write_manifest(version_dir: Path, sections: dict[str, Any]) -> Path:
    """Write manifest.json last, after every other file is final."""
    manifest = {
        "format": MANIFEST_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": file_hashes(version_dir),
        "versions": library_versions(),
        **sections,
    }
    path = version_dir / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    return path


def check_manifest(version_dir: Path) -> list[str]:
    """Problems with a directory against its manifest (empty list: it matches)."""
    path = version_dir / MANIFEST_FILE
    if not path.is_file():
        return [f"{path}: missing"]
    recorded: dict[str, str] = json.loads(path.read_text()).get("files", {})
    actual = file_hashes(version_dir)
    problems = [f"{name}: listed but missing" for name in recorded if name not in actual]
    problems += [f"{name}: not listed in the manifest" for name in actual if name not in recorded]
    problems += [
        f"{name}: sha256 differs from the manifest"
        for name, digest in actual.items()
        if name in recorded and recorded[name] != digest
    ]
    return problems
