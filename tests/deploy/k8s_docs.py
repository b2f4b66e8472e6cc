"""deploy/k8s loaded once: every document, found by kind and name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
DOCS: list[dict[str, Any]] = [
    doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    if doc
]


def manifest(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(deployment)["containers"]
    return container


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def container_ports(container: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container["ports"]}


def expanded(args: list[Any], settings: dict[str, str]) -> list[str]:
    """The container args after Kubernetes expands $(VAR) from the ConfigMap."""
    return [re.sub(r"\$\((\w+)\)", lambda m: settings[m.group(1)], str(a)) for a in args]


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


# The seqserve replicas, their settings and their Service.
DEPLOYMENT = manifest("Deployment", "seqserve")
POD = pod_spec(DEPLOYMENT)
CONTAINER = only_container(DEPLOYMENT)
SETTINGS: dict[str, str] = manifest("ConfigMap", "seqserve-settings")["data"]
PORTS = container_ports(CONTAINER)
REPLICAS_SERVICE = manifest("Service", "seqserve-replicas")


def server_args() -> list[str]:
    return expanded(CONTAINER["args"], SETTINGS)
