"""End long-lived client streams promptly when the server drains.

grpc.aio's graceful stop lets in-flight RPCs run for the whole grace period
and then cancels them with a bare "Cancelling all calls". Predict,
PredictMany and ModelStreamInfer streams never end on their own, so each
reads its requests through `StreamRegistry.guard`: once the drain has saved
the sessions, `end_all` makes every guarded stream's next (or current) read
raise DrainingError, which the error table turns into UNAVAILABLE with a
message telling the client to resume. A stream that is computing a chunk
finishes it and sends its answer first; the request a client sent after the
drain began is not read, so the position it last received is where it
resends from.

The wait in a read is interrupted by cancelling the task that reads (the
RPC's handler task or the stream's reader task) and turning that one
cancellation back into the error; no task or queue is added per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

from seqserve.server.errors import DRAINING_MESSAGE, DrainingError

Req = TypeVar("Req")


class _Guarded:
    __slots__ = ("ending", "reading", "task")

    def __init__(self) -> None:
        self.ending = False
        self.reading = False
        self.task: asyncio.Task[object] | None = None

    def end(self) -> None:
        self.ending = True
        if self.reading and self.task is not None:
            self.task.cancel()


class StreamRegistry:
    """The open client streams of one servicer, and whether the drain saved the sessions."""

    def __init__(self) -> None:
        self._streams: set[_Guarded] = set()
        self.draining = False
        self._saved: asyncio.Event | None = None

    def __len__(self) -> int:
        return len(self._streams)

    async def guard(self, requests: AsyncIterator[Req]) -> AsyncIterator[Req]:
        """The requests, ending with DrainingError once the drain ends streams."""
        stream = _Guarded()
        self._streams.add(stream)
        iterator = aiter(requests)
        try:
            while True:
                if stream.ending:
                    raise DrainingError(DRAINING_MESSAGE)
                stream.task = asyncio.current_task()
                stream.reading = True
                try:
                    message = await anext(iterator)
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError:
                    if not stream.ending or stream.task is None:
                        raise
                    stream.task.uncancel()  # our own cancellation: the RPC goes on
                    raise DrainingError(DRAINING_MESSAGE) from None
                finally:
                    stream.reading = False
                yield message
        finally:
            self._streams.discard(stream)

    def begin(self) -> None:
        """The drain started (sessions are being saved; streams still run)."""
        self.draining = True

    def end_all(self) -> None:
        """The sessions are saved: every guarded stream ends at its next read."""
        self._saved_event().set()
        for stream in list(self._streams):
            stream.end()

    async def wait_saved(self, timeout: float = 30.0) -> None:
        """A request refused for the drain: answer only once the sessions are saved."""
        if not self.draining:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._saved_event().wait(), timeout)

    def _saved_event(self) -> asyncio.Event:
        if self._saved is None:
            self._saved = asyncio.Event()
        return self._saved
