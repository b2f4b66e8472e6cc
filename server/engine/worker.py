"""The engine worker contract: one thread per loaded model, one loop shape for every kind.

Each iteration, as in vLLM's engine core:

    schedule() -> plan        (lock held) what to run now, or None: nothing yet
    execute(plan) -> outputs  (lock free) run the graph; ONNX Runtime releases the GIL
    update(plan, outputs)     hand results out, retire finished work

The base owns what every kind needs the same way: the thread, the condition
that wakes it (submit, cancel, stop), the stop flag and the refusal of new work
once it is set, recovery from a failing iteration (the kind says which requests
fail with it; the loop keeps serving), the final fail-all when the loop ends,
and delivery: results go into an outbox and leave in one loop_delivery.deliver
per phase, so the event loops wake once per batch, not once per request.

Kinds: scheduler.DecodeScheduler (translator, captioner), dynamic_batcher
(tagger), sessions/scheduler.SessionScheduler (streaming).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from seqserve.server import metrics
from seqserve.server.engine.loop_delivery import Delivery, deliver
from seqserve.server.errors import UnavailableError

log = logging.getLogger(__name__)

Plan = TypeVar("Plan")
Outputs = TypeVar("Outputs")


class EngineWorker(Generic[Plan, Outputs]):
    """Subclasses implement schedule, execute, update, recover and shut_down."""

    stop_timeout = 5.0
    """Seconds stop() waits for the loop to end (an iteration in flight finishes first)."""
    refused_message = "model '{name}' is shutting down"
    """UNAVAILABLE message for work submitted after stop() began."""

    def __init__(self, name: str, thread_name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        """A plan is between schedule() and the end of its update (idle() reads it)."""
        self._outbox: list[Delivery] = []
        """Results made on the worker thread this phase (worker thread only)."""
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)

    # ---- any thread -----------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new work, let the iteration in flight finish, then fail what is left."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.ident is None:  # never started: nobody else will fail the queue
            self._shut_down_and_deliver()
            return
        self._thread.join(self.stop_timeout if timeout is None else timeout)

    def wake(self) -> None:
        """Make the loop schedule again now (a client went away: free its work)."""
        with self._cond:
            self._cond.notify()

    def refuse_if_stopping(self) -> None:
        """(lock held) Raise UnavailableError, counted as a 'draining' rejection, once
        stop() began."""
        if self._stopping:
            metrics.REJECTED.labels(self.name, "draining").inc()
            raise UnavailableError(self.refused_message.format(name=self.name))

    # ---- the kind's part --------------------------------------------------------
    def schedule(self) -> Plan | None:
        """(lock held, worker thread) The next iteration's work, or None to wait."""
        raise NotImplementedError

    def wait_seconds(self) -> float | None:
        """(lock held) After schedule() returned None: how long to wait before asking
        again; None: until submit, wake or stop notifies."""
        return None

    def execute(self, plan: Plan) -> Outputs:
        """(worker thread, lock free) Run the graph for the plan."""
        raise NotImplementedError

    def update(self, plan: Plan, outputs: Outputs) -> None:
        """(worker thread) Hand results out (send) and retire finished work."""
        raise NotImplementedError

    def recover(self, plan: Plan | None, error: Exception) -> None:
        """(worker thread, lock free) An iteration raised (a bug, or a graph failing
        where the kind does not isolate it): fail the requests it concerns. plan is
        None when schedule() itself raised."""
        raise NotImplementedError

    def shut_down(self) -> None:
        """(worker thread, or stop()'s caller when the loop never started) The loop
        ended: fail everything still queued or running."""
        raise NotImplementedError

    # ---- delivery ----------------------------------------------------------------
    def send(self, loop: Any, sink: Callable[[Any], None], outcome: Any) -> None:
        """(worker thread) Queue one outcome for the end of this phase."""
        self._outbox.append((loop, sink, outcome))

    def _flush(self) -> None:
        if self._outbox:
            items, self._outbox = self._outbox, []
            deliver(items)

    # ---- the loop (worker thread) -----------------------------------------------
    def _next_plan(self) -> Plan | None:
        """(lock held) Wait for work; None once stopping."""
        while not self._stopping:
            plan = self.schedule()
            if plan is not None:
                self._busy = True
                return plan
            self._cond.wait(self.wait_seconds())
        return None

    def _loop(self) -> None:
        while True:
            plan: Plan | None = None
            try:
                with self._cond:
                    plan = self._next_plan()
                # What schedule() failed (cancelled, expired) goes out before the graph runs.
                self._flush()
                if plan is None:
                    break
                self.update(plan, self.execute(plan))
            except Exception as exc:  # a real bug: fail what it concerns, keep serving
                log.exception("engine loop failure in model %s", self.name)
                self.recover(plan, exc)
            self._flush()
            self._busy = False
        self._shut_down_and_deliver()

    def _shut_down_and_deliver(self) -> None:
        try:
            self.shut_down()
        finally:
            self._flush()
