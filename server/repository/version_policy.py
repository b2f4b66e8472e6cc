"""Which versions of a model are served: Triton's version policy, per model.

`<repository>/<model>/version_policy.yaml` holds one of

    latest: 2          # the 2 highest versions (the default is latest: 1)
    specific: [1, 3]   # exactly these
    all: true          # every version on disk

Requests pin a version by number; without one they get the highest loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from seqserve.server.repository.config import ConfigError

POLICY_FILE = "version_policy.yaml"


@dataclass(frozen=True)
class VersionPolicy:
    latest: int = 1
    specific: tuple[int, ...] = ()
    all: bool = False

    def choose(self, available: list[int]) -> list[int]:
        """The versions to serve out of those on disk, ascending."""
        if self.all:
            return sorted(available)
        if self.specific:
            return sorted(v for v in self.specific if v in available)
        return sorted(available)[-self.latest :]

    def describe(self) -> str:
        if self.all:
            return "all"
        if self.specific:
            return f"specific {list(self.specific)}"
        return f"latest {self.latest}"


def load_policy(model_dir: Path) -> VersionPolicy:
    path = Path(model_dir) / POLICY_FILE
    shown = "/".join(path.parts[-2:])
    if not path.is_file():
        return VersionPolicy()
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConfigError(f"{shown}: one of latest: N, specific: [..], all: true")
    (key, value), = raw.items()
    if key == "latest" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return VersionPolicy(latest=value)
    if key == "specific" and isinstance(value, list) and value and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        return VersionPolicy(specific=tuple(sorted(set(value))))
    if key == "all" and value is True:
        return VersionPolicy(all=True)
    raise ConfigError(
        f"{shown}: {key}: {value!r} is not a version policy (latest: N > 0, "
        f"specific: [positive versions], all: true)"
    )
