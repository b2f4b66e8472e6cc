"""Submit one request to an engine worker and wait for its outcomes on the event loop.

    with submitted(worker, request) as inbox:
        outcome = await inbox.get()

`submitted` refuses a request whose deadline already passed, points the
request's sink at an Inbox on the running loop (the worker delivers through
loop_delivery, one wake-up per batch), queues it with worker.accept (which
raises at once when the worker refuses it), and on leaving the block, however
it is left (result, error, cancelled RPC, closed stream), calls
worker.abandon so work nobody waits for any more stops costing rows.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any, Generic, Protocol, TypeVar

from seqserve.server.errors import DeadlineExceededError

T = TypeVar("T")
R = TypeVar("R", bound="Waitable")


class Waitable(Protocol):
    """A request the worker answers through sink, on loop (None: on the worker thread)."""

    deadline: float | None
    loop: asyncio.AbstractEventLoop | None
    sink: Any


class RequestWorker(Protocol[R]):
    def accept(self, request: R) -> None:
        """Queue the request, or raise why not (full, shutting down, deadline unmeetable)."""

    def abandon(self, request: R) -> None:
        """The caller stopped waiting: drop what is left of the request."""


class Inbox(Generic[T]):
    """One request's outcomes, in the order the worker made them. Used on one event
    loop only (put runs there too), so it needs no lock."""

    __slots__ = ("_items", "_waiter", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._items: collections.deque[T] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, outcome: T) -> None:
        self._items.append(outcome)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


# Lower case: it reads as a function at the call site (`with submitted(...) as inbox`).
class submitted(Generic[R, T]):
    __slots__ = ("_request", "_worker")

    def __init__(self, worker: RequestWorker[R], request: R) -> None:
        self._worker, self._request = worker, request

    def __enter__(self) -> Inbox[T]:
        request = self._request
        if request.deadline is not None and time.monotonic() >= request.deadline:
            raise DeadlineExceededError("deadline exceeded before the request was queued")
        inbox: Inbox[T] = Inbox(asyncio.get_running_loop())
        request.loop, request.sink = inbox.loop, inbox.put
        self._worker.accept(request)
        return inbox

    def __exit__(self, *exc_info: object) -> None:
        self._worker.abandon(self._request)
