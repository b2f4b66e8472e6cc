"""Hand results from an engine thread to the event loops waiting for them.

Each call_soon_threadsafe writes to the loop's wake-up pipe and queues one
callback; one per result would cost a syscall and a loop iteration each, and
a batch can finish dozens of requests at once. deliver() makes one call per
event loop for everything a batch finished.

A sink that raises is logged and skipped: it must neither kill the engine
thread (sinks without a loop run there) nor keep its batch-mates' sinks from
running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Delivery = tuple[asyncio.AbstractEventLoop | None, Callable[[Any], None], Any]
"""(the loop the sink must run on, or None to call it right here; sink; outcome)."""


def deliver(items: Iterable[Delivery]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Callable[[Any], None], Any]]] = {}
    for loop, sink, outcome in items:
        if loop is None:
            _call(sink, outcome)
        else:
            by_loop.setdefault(loop, []).append((sink, outcome))
    for loop, calls in by_loop.items():
        # RuntimeError: the loop closed, nobody is waiting for these any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_run_all, calls)


def _run_all(calls: list[tuple[Callable[[Any], None], Any]]) -> None:
    for sink, outcome in calls:
        _call(sink, outcome)


def _call(sink: Callable[[Any], None], outcome: Any) -> None:
    try:
        sink(outcome)
    except Exception:
        log.exception("a result sink failed")
