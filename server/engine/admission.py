"""Deadline-aware admission for a decode scheduler: refuse at once what cannot finish.

A request admitted and then expired has cost the batch its rows for nothing and
its client the whole deadline; one refused at once costs a millisecond. So
`check` refuses a request unless its predicted completion fits its deadline with
a margin. The prediction is a LATENCY at the batching the request will see:

- room in the batch now: one iteration to join, then its own steps at the
  seconds per iteration of the batch grown by everything queued and itself;
- no room: it waits while the batch frees the slots it and the queue ahead need
  (a full batch of L sentences of S steps frees one slot every S*t/L seconds),
  then decodes its own steps at the full batch's iteration time.

Its own steps: the typical finished sentence's, within its min/max_length. The
batch may also be "full" for a reason other than its limits: the decode loop
stops growing it when one more row would make the iteration slow enough for a
live sentence to miss its deadline (`tolerance`, the slowest iteration every
live sentence can still afford). That caps admitted in-flight work where
goodput would otherwise collapse (a batch grown until everyone misses).
Before anything was measured every request is admitted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from seqserve.server.engine.decode_cost import StepCost, TypicalSteps
from seqserve.server.errors import DeadlineExceededError

MARGIN = 1.2
"""Predicted completion times this must fit: estimates are averages."""
SLACK_SECONDS = 0.05
"""And this on top: delivery, the event loop, a slow iteration."""
GROWTH_MARGIN = 1.5
"""The batch grows only while every live sentence would finish within its deadline
left / this. Iteration times under a flood of RPCs vary 3-20 ms around their mean
(GIL), so sentences planned at MARGIN missed; throughput barely depends on the batch
size there (the per-row cost dominates), so a smaller batch costs little."""


@dataclass(frozen=True)
class BatchState:
    """The decode scheduler's load as a newcomer sees it (read under its lock)."""

    live_sentences: int
    live_rows: int
    queued_sentences: int
    queued_rows: int
    max_sentences: int
    max_rows: int
    tolerance: float = math.inf
    """Slowest iteration (s) every live sentence can afford and still meet its deadline."""


@dataclass(frozen=True)
class Newcomer:
    sentences: int
    rows_per_sentence: int
    min_length: int
    max_length: int
    deadline: float | None
    """Absolute, on the admission's clock."""


class LatencyAdmission:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.cost = StepCost()
        self.steps = TypicalSteps()
        self.clock = clock

    def predict(self, state: BatchState, job: Newcomer) -> float | None:
        """Seconds from now until the newcomer's last sentence is done; None: unknown."""
        own_steps = self.steps.expected(job.min_length, job.max_length)
        typical = self.steps.value
        now_step = self.cost.seconds(max(state.live_rows, 1))
        if own_steps is None or typical is None or now_step is None:
            return None
        n, rows = job.sentences, job.sentences * job.rows_per_sentence
        sentences_after = state.live_sentences + state.queued_sentences + n
        rows_after = state.live_rows + state.queued_rows + rows
        grown_step = self.cost.seconds(rows_after)
        assert grown_step is not None
        within_limits = sentences_after <= state.max_sentences and rows_after <= state.max_rows
        if state.live_sentences == 0 or (within_limits and grown_step <= state.tolerance):
            return now_step + own_steps * grown_step
        if within_limits:  # held back by the tolerance: the batch stays as it is
            waiting_for, full_step = state.queued_sentences + n, now_step
        else:
            over_rows = (rows_after - state.max_rows) / max(job.rows_per_sentence, 1)
            waiting_for = max(1, sentences_after - state.max_sentences, math.ceil(over_rows))
            full_rows = min(rows_after, state.max_rows,
                            rows_after * state.max_sentences // sentences_after)
            full_step = self.cost.seconds(full_rows) or now_step
        slot_every = typical * now_step / state.live_sentences
        return waiting_for * slot_every + own_steps * full_step

    def check(self, state: BatchState, job: Newcomer, model: str) -> float | None:
        """Raise DeadlineExceededError when the newcomer's predicted completion,
        with the margin, ends after its deadline; else return the prediction."""
        predicted = self.predict(state, job)
        if job.deadline is None or predicted is None:
            return predicted
        left = job.deadline - self.clock()
        if predicted * MARGIN + SLACK_SECONDS > left:
            raise DeadlineExceededError(
                f"deadline cannot be met: model '{model}' would finish this request in about "
                f"{predicted:.2f} s ({state.live_sentences} sentences decoding, "
                f"{state.queued_sentences} queued) and it has {max(left, 0.0):.2f} s left; "
                "retry later or with a longer deadline"
            )
        return predicted

    def tolerance(self, deadline: float | None, steps_done: int, min_length: int,
                  max_length: int, now: float) -> float:
        """Slowest iteration a live sentence can afford, margins included: deadline
        left / steps left."""
        expected = self.steps.expected(min_length, max_length)
        if deadline is None or expected is None:
            return math.inf
        left = deadline - now - SLACK_SECONDS
        return left / GROWTH_MARGIN / max(1.0, expected - steps_done)
