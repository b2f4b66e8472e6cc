"""Answer the requests of a bidirectional stream concurrently, in completion order.

Both multiplexed streams (PredictMany, KServe's ModelStreamInfer) read requests
as they come and answer each in its own task, so a slow request never holds
back the ones behind it. Requests that share a `key` (one KServe sequence) are
answered in arrival order. An answer may be an async iterator of several
responses (decoupled partials); they go out in its order. At most
`max_in_flight` requests are held at once, counted from when a request is read
until its (last) answer is handed to gRPC to send (not merely computed):
beyond it reading waits, so a client that stops reading its responses stops
the server reading its requests (flow control), and neither computed answers
nor pending requests pile up. A request whose answer raises ends the stream
with that error (the RPC's error mapping turns a bug into INTERNAL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import TypeVar

from seqserve.server.errors import DrainingError

Req = TypeVar("Req")
Resp = TypeVar("Resp")

# Marks the end of a multi-response answer: frees its slot, sends nothing.
_SLOT_ONLY = object()


async def answer_concurrently(
    requests: AsyncIterator[Req],
    answer: Callable[[Req], Awaitable[Resp]],
    *,
    key: Callable[[Req], Hashable | None] | None = None,
    max_in_flight: int = 64,
) -> AsyncIterator[Resp]:
    # Each entry says whether handing it to gRPC frees its request's slot: only
    # the last response of a request does (or its error).
    done: asyncio.Queue[tuple[Resp | BaseException | object, bool] | None] = asyncio.Queue()
    room = asyncio.Semaphore(max_in_flight)
    running: set[asyncio.Task[None]] = set()
    last_of_key: dict[Hashable, asyncio.Task[None]] = {}

    async def run(request: Req, after: asyncio.Task[None] | None) -> None:
        try:
            if after is not None:
                await asyncio.wait({after})  # the previous request with this key
            answered = await answer(request)
            if hasattr(answered, "__aiter__"):
                # Several responses for one request (KServe decoupled partials).
                async for item in answered:
                    done.put_nowait((item, False))
                done.put_nowait((_SLOT_ONLY, True))
            else:
                done.put_nowait((answered, True))
        except Exception as exc:
            done.put_nowait((exc, True))
        # The slot is released by the sender below, once the answer has left.

    def forget(request_key: Hashable, task: asyncio.Task[None]) -> None:
        # A long-lived stream of many keys keeps only live links.
        if last_of_key.get(request_key) is task:
            del last_of_key[request_key]

    async def read() -> None:
        try:
            async for request in requests:
                await room.acquire()
                request_key = key(request) if key is not None else None
                after = last_of_key.get(request_key) if request_key is not None else None
                task = asyncio.ensure_future(run(request, after))
                running.add(task)
                task.add_done_callback(running.discard)
                if request_key is not None:
                    last_of_key[request_key] = task
                    task.add_done_callback(lambda t, k=request_key: forget(k, t))
            if running:
                await asyncio.wait(set(running))
        except DrainingError:
            # The server drains: answers being computed still go out, then the error.
            if running:
                await asyncio.wait(set(running))
            raise
        finally:
            # Also when reading fails: the loop below must end, then re-raise it.
            done.put_nowait(None)

    reader = asyncio.ensure_future(read())
    try:
        while (entry := await done.get()) is not None:
            item, frees_slot = entry
            if isinstance(item, BaseException):
                raise item
            if item is not _SLOT_ONLY:
                yield item  # returns when gRPC asks for the next message
            if frees_slot:
                room.release()
        await reader  # surfaces a broken request stream as the RPC's error
    finally:
        for task in (reader, *running):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(reader, *running, return_exceptions=True)
