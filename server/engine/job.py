"""A decode job: one request's sentences, options, deadline and where results go.

The scheduler thread owns the job's progress; the asyncio side only reads the
events the sink receives and may set `cancelled` (a plain flag: reading a bool
across threads is safe under the GIL and the scheduler polls it every step).
"""

from __future__ import annotations

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


@dataclass(eq=False)
class DecodeJob:
    sources: list[Any]
    """Encoder input per sentence: token ids (EOS included) for text, an image
    array for a captioner: whatever the model's graphs' encode() takes."""
    options: ResolvedOptions
    sink: EventSink
    deadline: float | None = None
    """Absolute time.monotonic() value."""
    want_partials: bool = False
    cancelled: bool = False
    submitted_at: float = field(default_factory=time.monotonic)
    admitted_at: float = 0.0
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

    def fail(self, error: BaseException) -> None:
        if not self.failed:
            self.failed = True
            self.sink(ErrorEvent(error))

    def complete(self) -> None:
        self.sink(DoneEvent(nbest=[n or [] for n in self.nbest], steps=list(self.steps)))
