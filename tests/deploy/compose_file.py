"""deploy/compose.yaml loaded once, and the image's CMD, for the compose tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.deploy.dockerfile import parse

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
IMAGE_DOCKERFILE = "deploy/docker/Dockerfile.cpu"
REPLICAS = sorted(name for name, service in SERVICES.items()
                  if service.get("build", {}).get("dockerfile") == IMAGE_DOCKERFILE)
"""The seqserve replicas: the services built from the seqserve image."""


def image_cmd() -> list[str]:
    (cmd,) = [i for i in parse(DEPLOY / "docker" / "Dockerfile.cpu") if i.keyword == "CMD"]
    return cmd.words()


def option(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]
