"""Metrics the custom registry used to drop or never emit: process metrics (RSS, CPU,
open fds), each model version's state, and the "draining" rejection reason."""

from __future__ import annotations

import pytest

from seqserve.server import metrics
from seqserve.server.engine.dynamic_batcher import DynamicBatcher
from seqserve.server.errors import UnavailableError
from tests.integration.grpc_helpers import metric
from tests.support.server_process import ServerProcess


def test_process_metrics_are_exported(server: ServerProcess) -> None:
    assert metric(server.metrics_url, "process_resident_memory_bytes") > 10_000_000
    assert metric(server.metrics_url, "process_open_fds") > 0
    assert metric(server.metrics_url, "process_max_fds") > 0
    assert metric(server.metrics_url, "process_cpu_seconds_total") > 0
    assert metric(server.metrics_url, "python_info") == 1


def test_the_loaded_version_is_reported_ready(server: ServerProcess) -> None:
    assert metric(server.metrics_url, "seqserve_model_version_state",
                  model="numbers", version="1", state="READY") == 1


def test_work_refused_by_a_stopping_model_counts_as_draining() -> None:
    def rejected() -> float:
        value = metrics.REGISTRY.get_sample_value(
            "seqserve_rejected_requests_total", {"model": "drain-test", "reason": "draining"})
        return value or 0.0

    batcher = DynamicBatcher("drain-test", lambda payloads: payloads, max_batch_size=4,
                             max_queue_delay_s=0.0, max_queue=8)
    batcher.start()
    batcher.stop()
    before = rejected()
    with pytest.raises(UnavailableError):
        batcher.submit(["x"], [1], lambda *args: None)
    assert rejected() == before + 1
