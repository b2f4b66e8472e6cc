"""Dynamic batching for stateless graphs (taggers, image encoders run alone).

One thread per model (an EngineWorker). Requests put their items (sentences)
in one bounded queue; schedule() waits until `max_batch_size` items are
waiting or the oldest has waited `max_queue_delay` (not at all while there is
no sign of concurrent load, see _alone), then takes the oldest item plus the
waiting items nearest to it in length, as many as pay for their padding
(batch_packing.py; the oldest is always served, so nothing starves);
execute() runs the batch; update() hands each request its results with the
sink it gave, one wake-up per event loop per batch.

A batch that raises is retried item by item, so one bad request fails alone
and never takes its batch-mates with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from seqserve.server import metrics
from seqserve.server.engine.batch_packing import choose_window
from seqserve.server.engine.worker import EngineWorker
from seqserve.server.errors import (
    DeadlineExceededError,
    ResourceExhaustedError,
    SeqServeError,
    UnavailableError,
)
from seqserve.server.repository.tagger_config import DEFAULT_CALL_OVERHEAD_TOKENS

log = logging.getLogger(__name__)

RunBatch = Callable[[list[Any]], Sequence[Any]]
"""Runs one batch of item payloads, returns one result per payload (same order)."""
Sink = Callable[[list[Any] | BaseException], None]
"""Receives the request's results (one per item, in order) or its error, once."""


def _unset_sink(outcome: list[Any] | BaseException) -> None:
    """Until the submitter points the request at its sink (waiting.submitted does)."""


@dataclass(eq=False)
class BatchRequest:
    """One submitted request: its items, results as they arrive, and its fate."""

    payloads: list[Any]
    lengths: list[int]
    sink: Sink = _unset_sink
    deadline: float | None = None
    loop: asyncio.AbstractEventLoop | None = None
    """Where the sink runs (one wake-up per loop per batch); None: on the batcher thread."""
    results: list[Any] = field(default_factory=list)
    remaining: int = 0
    finished: bool = False
    cancelled: bool = False

    def __post_init__(self) -> None:
        self.results = [None] * len(self.payloads)
        self.remaining = len(self.payloads)

    def cancel(self) -> None:
        """The caller went away: its items that have not run are skipped."""
        self.cancelled = True


@dataclass(eq=False)
class _Item:
    request: BatchRequest
    index: int
    length: int
    arrived: float


class _Failed(NamedTuple):
    """An item whose run raised, even alone (execute's output in its place)."""

    error: Exception


class DynamicBatcher(EngineWorker[list[_Item], list[Any]]):
    """Plan: the items of one batch. Outputs: one result (or _Failed) per item."""

    stop_timeout = 10.0
    refused_message = "model '{name}' is unloading"

    def __init__(
        self, name: str, run_batch: RunBatch, *, max_batch_size: int,
        max_queue_delay_s: float, max_queue: int,
        policy: Literal["dynamic", "sequential"] = "dynamic", adaptive_delay: bool = True,
        call_overhead_tokens: float = DEFAULT_CALL_OVERHEAD_TOKENS,
    ) -> None:
        super().__init__(name, f"batcher-{name}")
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_delay = max_queue_delay_s
        self.max_queue = max_queue
        metrics.QUEUE_CAPACITY.labels(name).set(max_queue)
        metrics.REJECTED.labels(name, "queue_full")  # exists at 0: rate() has data before any
        self.policy = policy
        self.adaptive_delay = adaptive_delay
        self.call_overhead_tokens = call_overhead_tokens
        """A graph call's fixed cost in padded tokens (batch_packing's cost model)."""
        self._queue: list[_Item] = []
        self._last_batch_requests = 0
        """Distinct requests in the last batch run: the load signal of _alone()."""

    def idle(self) -> bool:
        """Nothing queued or running: a retired version may stop without failing any."""
        with self._cond:
            return not self._queue and not self._busy

    def submit(
        self, payloads: list[Any], lengths: list[int], sink: Sink, *,
        deadline: float | None = None, loop: asyncio.AbstractEventLoop | None = None,
    ) -> BatchRequest:
        """Queue a request; ResourceExhaustedError at once when the queue is full."""
        request = BatchRequest(payloads, lengths, sink, deadline, loop)
        self.accept(request)
        return request

    def accept(self, request: BatchRequest) -> None:
        now = time.monotonic()
        with self._cond:
            self.refuse_if_stopping()
            if len(self._queue) + len(request.payloads) > self.max_queue:
                metrics.REJECTED.labels(self.name, "queue_full").inc()
                raise ResourceExhaustedError(
                    f"model '{self.name}': queue full ({len(self._queue)} of "
                    f"max_queue={self.max_queue} sentences waiting); retry later"
                )
            self._queue.extend(
                _Item(request, i, n, now) for i, n in enumerate(request.lengths)
            )
            metrics.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
            self._cond.notify()

    def abandon(self, request: BatchRequest) -> None:
        request.cancel()  # a cancelled RPC's waiting sentences never run

    # ---- the worker's part (batcher thread) -------------------------------------
    def schedule(self) -> list[_Item] | None:
        self._drop_dead()
        if not self._queue:
            return None
        if self.policy == "sequential":
            return self._take_request()
        wait = self._queue[0].arrived + self.max_delay - time.monotonic()
        if len(self._queue) >= self.max_batch_size or wait <= 0 or self._alone():
            return self._take_grouped()
        return None

    def wait_seconds(self) -> float | None:
        if not self._queue:
            return None
        return self._queue[0].arrived + self.max_delay - time.monotonic()

    def execute(self, batch: list[_Item]) -> list[Any]:
        try:
            return list(self._run(batch))
        except Exception as exc:
            if len(batch) == 1:
                return [_Failed(exc)]
            log.warning("%s: batch of %d failed (%s); retrying one by one",
                        self.name, len(batch), exc)
            return [self.execute([item])[0] for item in batch]

    def update(self, batch: list[_Item], outputs: list[Any]) -> None:
        for item, output in zip(batch, outputs, strict=True):
            request = item.request
            if request.finished:
                continue
            if isinstance(output, _Failed):
                self._finish(request, output.error)
                continue
            request.results[item.index] = output
            request.remaining -= 1
            if request.remaining == 0:
                self._finish(request, None)

    def recover(self, batch: list[_Item] | None, error: Exception) -> None:
        if batch is None:  # choosing the batch failed: the queue is suspect
            with self._cond:
                batch, self._queue = self._queue, []
        for request in {item.request: None for item in batch}:
            self._finish(request, error)

    def shut_down(self) -> None:
        with self._cond:
            pending, self._queue = self._queue, []
        error = UnavailableError(f"model '{self.name}' is unloading")
        for request in {item.request: None for item in pending}:
            self._finish(request, error)

    # ---- choosing a batch (lock held) -------------------------------------------
    def _alone(self) -> bool:
        """No sign of concurrent load: the last batch served one request and one
        request waits now. Waiting for batch-mates then only adds latency (a
        lone client would pay max_queue_delay on every call); under load the
        last batch held several requests and the delay applies again."""
        if not self.adaptive_delay:
            return False
        owner = self._queue[0].request
        return self._last_batch_requests <= 1 and all(i.request is owner for i in self._queue)

    def _take_request(self) -> list[_Item]:
        """Batching off: the oldest request's items alone, in arrival order."""
        owner = self._queue[0].request
        batch = [item for item in self._queue if item.request is owner]
        self._queue = [item for item in self._queue if item.request is not owner]
        metrics.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
        return batch

    def _take_grouped(self) -> list[_Item]:
        by_length = sorted(range(len(self._queue)), key=lambda i: self._queue[i].length)
        start, end = choose_window(
            [self._queue[i].length for i in by_length], by_length.index(0),
            self.max_batch_size, self.call_overhead_tokens,
        )
        chosen = set(by_length[start:end])
        batch = [item for i, item in enumerate(self._queue) if i in chosen]
        self._queue = [item for i, item in enumerate(self._queue) if i not in chosen]
        metrics.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
        return batch

    def _drop_dead(self) -> None:
        """Cancelled and expired requests leave the queue before they cost a graph call."""
        now = time.monotonic()
        dead = {
            item.request for item in self._queue
            if item.request.cancelled or item.request.finished
            or (item.request.deadline is not None and now >= item.request.deadline)
        }
        if not dead:
            return
        self._queue = [item for item in self._queue if item.request not in dead]
        metrics.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
        expired = [r for r in dead if not r.cancelled and not r.finished]
        for request in expired:
            metrics.ABORTED_SENTENCES.labels(self.name, "deadline").inc(request.remaining)
        error = DeadlineExceededError("deadline exceeded while waiting in the batching queue")
        for request in expired:
            self._finish(request, error)

    # ---- running and handing out (batcher thread) --------------------------------
    def _run(self, batch: list[_Item]) -> Sequence[Any]:
        metrics.ENCODER_BATCH.labels(self.name).observe(len(batch))
        self._last_batch_requests = len({id(item.request) for item in batch})
        admitted = time.monotonic()
        queue_seconds = metrics.REQUEST_QUEUE_SECONDS.labels(self.name)
        for item in batch:
            queue_seconds.observe(admitted - item.arrived)
        started = time.perf_counter()
        outputs = self.run_batch([i.request.payloads[i.index] for i in batch])
        ran = time.perf_counter() - started
        metrics.ENCODE_SECONDS.labels(self.name).observe(ran)
        compute_seconds = metrics.REQUEST_COMPUTE_SECONDS.labels(self.name)
        for _ in batch:
            compute_seconds.observe(ran)
        return outputs

    def _finish(self, request: BatchRequest, error: BaseException | None) -> None:
        """Mark the request finished and send its outcome (nothing when it already was)."""
        if request.finished:
            return
        request.finished = True
        if error is not None and not isinstance(error, SeqServeError):
            log.exception("%s: request failed", self.name, exc_info=error)
        self.send(request.loop, request.sink, error if error is not None else request.results)
