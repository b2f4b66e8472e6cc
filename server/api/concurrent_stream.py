"""Answer the requests of a bidirectional stream concurrently, in completion order.

Both multiplexed streams (PredictMany, KServe's ModelStreamInfer) read requests
as they come and answer each in its own task, so a slow request never holds
back the ones behind it. Requests that share a `key` (one KServe sequence) are
answered in arrival order. At most `max_in_flight` requests are answered at
once; beyond it reading waits, so a client that never reads its responses
cannot grow the server's memory. A request whose answer raises ends the stream
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


async def answer_concurrently(
    requests: AsyncIterator[Req],
    answer: Callable[[Req], Awaitable[Resp]],
    *,
    key: Callable[[Req], Hashable | None] | None = None,
    max_in_flight: int = 64,
) -> AsyncIterator[Resp]:
    done: asyncio.Queue[Resp | BaseException | None] = asyncio.Queue()
    room = asyncio.Semaphore(max_in_flight)
    running: set[asyncio.Task[None]] = set()
    last_of_key: dict[Hashable, asyncio.Task[None]] = {}

    async def run(request: Req, after: asyncio.Task[None] | None) -> None:
        try:
            if after is not None:
                await asyncio.wait({after})  # the previous request with this key
            done.put_nowait(await answer(request))
        except Exception as exc:
            done.put_nowait(exc)
        finally:
            room.release()

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
        while (item := await done.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        await reader  # surfaces a broken request stream as the RPC's error
    finally:
        for task in (reader, *running):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(reader, *running, return_exceptions=True)
