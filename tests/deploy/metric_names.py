"""Metric names referenced by the dashboard, the alert rules and the HPA, and the names a
running server exposes (family names with their sample suffixes)."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"\bseqserve_[a-zA-Z0-9_]+")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def referenced(expr: str) -> set[str]:
    return set(_NAME.findall(expr))


def dashboard_names() -> set[str]:
    from deploy.grafana.make_dashboard import queries

    return {name for expr in queries() for name in referenced(expr)}


def alert_names() -> set[str]:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    return {name for group in rules["groups"] for rule in group["rules"]
            for name in referenced(rule["expr"])}


def exposed_names(metrics_url: str) -> set[str]:
    """Every sample name /metrics can carry, even for labelled series not yet created."""
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names
