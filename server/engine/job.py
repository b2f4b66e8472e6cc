"""A decode job: one request's sentences, options, deadline and where results go.

The scheduler thread owns the job's progress; the asyncio side only reads the
events the sink receives and may set `cancelled` (a plain flag: reading a bool
across threads is safe under the GIL and the scheduler polls it every step).
The scheduler hands the events over (fail() and done() only make them), so a
step's events reach each event loop in one wake-up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqserve.server.engine.options import ResolvedOptions


@dataclass(frozen=True)
class FinishedHypothesis:
    tokens: list[int]
    score: float
    log_prob: float
    attention: list[np.ndarray] | None = None
    """Per output token, attention weights over the source (return_attention)."""


@dataclass(frozen=True)
class PartialEvent:
    sentence_index: int
    tokens: list[int]
    step: int


@dataclass(frozen=True)
class DoneEvent:
    nbest: list[list[FinishedHypothesis]]
    """Per sentence, the n-best hypotheses, best first."""
    steps: list[int]


@dataclass(frozen=True)
class ErrorEvent:
    error: BaseException


Event = PartialEvent | DoneEvent | ErrorEvent
EventSink = Callable[[Event], None]


def _unset_sink(event: Event) -> None:
    """Until the submitter points the job at its sink (waiting.submitted does)."""


@dataclass(eq=False)
class DecodeJob:
    sources: list[Any]
    """Encoder input per sentence: token ids (EOS included) for text, an image
    array for a captioner: whatever the model's graphs' encode() takes."""
    options: ResolvedOptions
    sink: EventSink = _unset_sink
    deadline: float | None = None
    """Absolute time.monotonic() value."""
    want_partials: bool = False
    loop: asyncio.AbstractEventLoop | None = None
    """The event loop the sink runs on; None: on the scheduler thread."""
    cancelled: bool = False
    submitted_at: float = field(default_factory=time.monotonic)
    admitted_at: float = 0.0
    predicted_seconds: float | None = None
    """Admission's predicted latency (metrics: how good the prediction was)."""
    """time.monotonic() when the job joined the decode batch (metrics: queue vs compute)."""
    nbest: list[list[FinishedHypothesis] | None] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    remaining: int = 0
    failed: bool = False

    def __post_init__(self) -> None:
        self.nbest = [None] * len(self.sources)
        self.steps = [0] * len(self.sources)
        self.remaining = len(self.sources)

    def cancel(self) -> None:
        self.cancelled = True

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def finish_sentence(self, index: int, nbest: list[FinishedHypothesis], steps: int) -> bool:
        """Record one sentence's result; True when the whole job is done."""
        self.nbest[index] = nbest
        self.steps[index] = steps
        self.remaining -= 1
        return self.remaining == 0

    def fail(self, error: BaseException) -> ErrorEvent | None:
        """Mark the job failed; the event to hand its sink (None: it had failed already)."""
        if self.failed:
            return None
        self.failed = True
        return ErrorEvent(error)

    def done(self) -> DoneEvent:
        return DoneEvent(nbest=[n or [] for n in self.nbest], steps=list(self.steps))
