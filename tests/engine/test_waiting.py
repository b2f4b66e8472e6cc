"""waiting.submitted (the one submit-and-wait helper) and loop_delivery's sink isolation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from seqserve.server.engine.loop_delivery import deliver
from seqserve.server.engine.waiting import submitted
from seqserve.server.errors import DeadlineExceededError, ResourceExhaustedError


class Request:
    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.loop: Any = None
        self.sink: Any = None


class Worker:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.accepted: list[Request] = []
        self.abandoned: list[Request] = []

    def accept(self, request: Request) -> None:
        if self.refuse:
            raise ResourceExhaustedError("full")
        self.accepted.append(request)

    def abandon(self, request: Request) -> None:
        self.abandoned.append(request)


def test_outcomes_arrive_in_order_and_leaving_abandons() -> None:
    async def go() -> list[str]:
        worker, request = Worker(), Request()
        with submitted(worker, request) as inbox:
            assert request.loop is asyncio.get_running_loop()
            deliver([(request.loop, request.sink, "a"), (request.loop, request.sink, "b")])
            got = [await inbox.get(), await inbox.get()]
        assert worker.abandoned == [request]
        return got

    assert asyncio.run(go()) == ["a", "b"]


def test_a_cancelled_wait_abandons_the_request() -> None:
    async def go() -> Worker:
        worker = Worker()

        async def wait() -> None:
            with submitted(worker, Request()) as inbox:
                await inbox.get()

        task = asyncio.create_task(wait())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return worker

    worker = asyncio.run(go())
    assert worker.abandoned == worker.accepted and len(worker.accepted) == 1


def test_a_passed_deadline_or_a_refusal_queues_nothing_and_abandons_nothing() -> None:
    async def go() -> None:
        worker = Worker()
        with pytest.raises(DeadlineExceededError, match="before the request was queued"), \
                submitted(worker, Request(deadline=time.monotonic() - 1)):
            pass
        refusing = Worker(refuse=True)
        with pytest.raises(ResourceExhaustedError), submitted(refusing, Request()):
            pass
        assert not worker.accepted and not worker.abandoned and not refusing.abandoned

    asyncio.run(go())


def test_a_failing_sink_does_not_keep_the_others_from_running() -> None:
    got: list[str] = []

    def bad(outcome: str) -> None:
        raise RuntimeError("sink bug")

    async def go() -> None:
        loop = asyncio.get_running_loop()
        deliver([(loop, got.append, "first"), (loop, bad, "x"), (loop, got.append, "last"),
                 (None, bad, "y"), (None, got.append, "here")])
        await asyncio.sleep(0.01)

    asyncio.run(go())
    assert got == ["here", "first", "last"]
