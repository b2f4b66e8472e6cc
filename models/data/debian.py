"""Fetch and unpack Debian packages as plain files, without installing them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


class PackageUnavailableError(RuntimeError):
    """The packages could not be fetched; the message says which commands to run."""


def _manual_commands(packages: Sequence[str], cache: Path, unpacked: Path) -> str:
    names = " ".join(packages)
    return (
        f"Run these commands, then retry:\n"
        f"  mkdir -p {cache} && cd {cache}\n"
        f"  apt-get update   # only if 'apt-get download' finds no candidate\n"
        f"  apt-get download {names}\n"
        f'  for f in {cache}/*.deb; do dpkg-deb -x "$f" {unpacked}; done'
    )


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def fetch_debs(packages: Sequence[str], cache: Path, unpacked: Path) -> None:
    """`apt-get download` the packages into `cache` and `dpkg-deb -x` them into `unpacked`.

    Runs `apt-get update` once if the first download fails (fresh containers
    have empty package lists). Raises PackageUnavailableError with the commands to
    run by hand when apt-get/dpkg-deb are missing or fail.
    """
    help_text = _manual_commands(packages, cache, unpacked)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise PackageUnavailableError(f"apt-get/dpkg-deb not found. {help_text}")
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not list(cache.glob(f"{p}_*.deb"))]
    if missing:
        result = _run(["apt-get", "download", *missing], cache)
        if result.returncode != 0:
            update = _run(["apt-get", "update"], cache)
            result = _run(["apt-get", "download", *missing], cache)
            if result.returncode != 0:
                raise PackageUnavailableError(
                    f"apt-get download failed: {result.stderr.strip() or update.stderr.strip()}\n"
                    f"{help_text}"
                )
    unpacked.mkdir(parents=True, exist_ok=True)
    for package in packages:
        for deb in sorted(cache.glob(f"{package}_*.deb")):
            result = _run(["dpkg-deb", "-x", str(deb), str(unpacked)], cache)
            if result.returncode != 0:
                raise PackageUnavailableError(
                    f"dpkg-deb -x {deb} failed: {result.stderr.strip()}\n{help_text}"
                )
