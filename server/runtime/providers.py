"""Execution-provider choice: CUDA when it really works, CPU otherwise.

onnxruntime-gpu lists CUDA as available even on a machine with no GPU and
silently falls back to CPU when a session asks for it (FACTS.md), so the only
truth is what a created session reports with get_providers().
"""

from __future__ import annotations

import logging

import onnxruntime as ort

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def requested_providers(preference: list[str]) -> list[str]:
    """Keep the preferred providers this build offers, always ending with CPU."""
    available = set(ort.get_available_providers())
    chosen = [p for p in preference if p in available]
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


def device_of(active: list[str]) -> str:
    """The device buffers should live on for a session with these active providers."""
    return "cuda" if active and active[0] == CUDA else "cpu"


def report_fallback(graph: str, requested: list[str], active: list[str]) -> None:
    missing = [p for p in requested if p not in active]
    if missing:
        log.warning("%s: requested %s but active providers are %s", graph, missing, active)
    else:
        log.info("%s: active providers %s", graph, active)
