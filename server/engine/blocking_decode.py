"""Decoding without asyncio (export verification, benchmarks, scripts): inputs split
into jobs of `chunk` that join the running batch like separate requests, waited for
on a threading.Event, results in input order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent, Event, PartialEvent
from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.engine.results import SentenceResult
from seqserve.server.engine.scheduler import DecodeScheduler


def decode_blocking(
    scheduler: DecodeScheduler, inputs: Sequence[Any], options: ResolvedOptions, chunk: int,
    results: Callable[[DoneEvent, ResolvedOptions], list[SentenceResult]],
) -> list[SentenceResult]:
    chunks = [list(inputs[i : i + chunk]) for i in range(0, len(inputs), chunk)]
    outcome: dict[int, Event] = {}
    done = threading.Event()
    lock = threading.Lock()

    def make_sink(index: int) -> Callable[[Event], None]:
        def sink(event: Event) -> None:
            if isinstance(event, PartialEvent):
                return
            with lock:
                outcome[index] = event
                if len(outcome) == len(chunks):
                    done.set()

        return sink

    for index, part in enumerate(chunks):
        scheduler.submit(DecodeJob(part, options, make_sink(index)))
    if chunks:
        done.wait()
    decoded: list[SentenceResult] = []
    for index in range(len(chunks)):
        event = outcome[index]
        if isinstance(event, ErrorEvent):
            raise event.error
        assert isinstance(event, DoneEvent)
        decoded.extend(results(event, options))
    return decoded
