"""The outcomes of chunks submitted together, awaited as one future.

A future per chunk costs the event loop a callback per chunk when it resolves;
with thousands of one-step chunks a second that overhead rivals the model's.
Here every chunk's sink writes its outcome into a slot, and the last one
resolves a single future. Sinks run on the future's loop (the scheduler hands
them over with one call_soon_threadsafe per tick), so no lock is needed.
"""

from __future__ import annotations

import asyncio
from functools import partial

from seqserve.server.engine.sessions.table import ChunkResult, Sink

Outcome = ChunkResult | BaseException


class ChunkBatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        self.outcomes: list[Outcome | None] = [None] * count
        self.future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._left = count
        if count == 0:
            self.future.set_result([])

    def sink(self, index: int) -> Sink:
        return partial(self.settle, index)

    def settle(self, index: int, outcome: Outcome) -> None:
        if self.outcomes[index] is not None:
            return  # settled once already (refused before it was queued)
        self.outcomes[index] = outcome
        self._left -= 1
        if self._left == 0 and not self.future.done():  # done: the awaiting caller went away
            self.future.set_result(self.outcomes)  # type: ignore[arg-type]  # all set now
