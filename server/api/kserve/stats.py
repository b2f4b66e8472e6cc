"""Per-model inference statistics for ModelStatistics, kept by the KServe servicer.

Triton's invariants hold by construction: every successful request adds one to
success, queue, compute_input, compute_infer and compute_output together, and
its success duration is the sum of the four parts (so the parts never exceed
the whole). The engine does not report queue wait and compute apart per
request, so the time inside the engine is compute_infer and queue time is the
admission part measured here (parsing and lookups before the engine call).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Duration:
    count: int = 0
    ns: int = 0

    def add(self, ns: int) -> None:
        self.count += 1
        self.ns += max(0, ns)


@dataclass
class ModelCounters:
    success: Duration = field(default_factory=Duration)
    fail: Duration = field(default_factory=Duration)
    queue: Duration = field(default_factory=Duration)
    compute_input: Duration = field(default_factory=Duration)
    compute_infer: Duration = field(default_factory=Duration)
    compute_output: Duration = field(default_factory=Duration)
    inference_count: int = 0
    """Batch elements inferred (rows), as Triton counts them."""
    execution_count: int = 0
    """Engine submissions; the engine batches them further, so this is an upper bound."""
    last_inference_ms: int = 0


class RequestTimer:
    """Marks the phases of one request: admitted -> inputs decoded -> inferred -> output."""

    def __init__(self) -> None:
        self.start = time.perf_counter_ns()
        self.marks: list[int] = []

    def mark(self) -> None:
        self.marks.append(time.perf_counter_ns())

    def phases(self, end: int) -> tuple[int, int, int, int]:
        """(queue, compute_input, compute_infer, compute_output) in ns; missing marks -> 0."""
        points = [self.start, *self.marks][:4]
        while len(points) < 4:
            points.append(points[-1])
        points.append(end)
        return tuple(points[i + 1] - points[i] for i in range(4))  # type: ignore[return-value]


class Statistics:
    """Counters per (model, version); thread-safe, cheap enough for every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, int], ModelCounters] = {}

    def success(self, model: str, version: int, timer: RequestTimer, rows: int) -> None:
        end = time.perf_counter_ns()
        queue, cin, cinfer, cout = timer.phases(end)
        with self._lock:
            c = self._models.setdefault((model, version), ModelCounters())
            c.success.add(queue + cin + cinfer + cout)
            c.queue.add(queue)
            c.compute_input.add(cin)
            c.compute_infer.add(cinfer)
            c.compute_output.add(cout)
            c.inference_count += rows
            c.execution_count += 1
            c.last_inference_ms = time.time_ns() // 1_000_000

    def failure(self, model: str, version: int, timer: RequestTimer) -> None:
        with self._lock:
            c = self._models.setdefault((model, version), ModelCounters())
            c.fail.add(time.perf_counter_ns() - timer.start)

    def get(self, model: str, version: int) -> ModelCounters:
        """A copy of the counters (zeros for a model that has not served yet)."""
        with self._lock:
            c = self._models.get((model, version), ModelCounters())
            return ModelCounters(
                Duration(c.success.count, c.success.ns), Duration(c.fail.count, c.fail.ns),
                Duration(c.queue.count, c.queue.ns),
                Duration(c.compute_input.count, c.compute_input.ns),
                Duration(c.compute_infer.count, c.compute_infer.ns),
                Duration(c.compute_output.count, c.compute_output.ns),
                c.inference_count, c.execution_count, c.last_inference_ms,
            )
