"""answer_concurrently without gRPC: completion order, per-key order, the in-flight
bound, and an answer that raises."""

from __future__ import annotations

import asyncio

import pytest

from seqserve.server.api.concurrent_stream import answer_concurrently


async def _requests(items):
    for item in items:
        yield item


def _collect(items, answer, **kwargs):
    async def go():
        return [r async for r in answer_concurrently(_requests(items), answer, **kwargs)]

    return asyncio.run(go())


def test_a_slow_request_does_not_hold_back_the_next():
    async def answer(delay):
        await asyncio.sleep(delay)
        return delay

    assert _collect([0.2, 0.0, 0.1], answer) == [0.0, 0.1, 0.2]


def test_requests_with_one_key_are_answered_in_arrival_order():
    async def answer(item):
        _, delay = item
        await asyncio.sleep(delay)
        return item

    items = [("a", 0.2), ("b", 0.0), ("a", 0.0), ("a", 0.05)]
    out = _collect(items, answer, key=lambda item: item[0])
    assert [i for i in out if i[0] == "a"] == [("a", 0.2), ("a", 0.0), ("a", 0.05)]
    assert out[0] == ("b", 0.0)


def test_at_most_max_in_flight_answers_run_at_once():
    running, most = 0, 0

    async def answer(item):
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return item

    assert sorted(_collect(list(range(20)), answer, max_in_flight=3)) == list(range(20))
    assert most == 3


def test_an_answer_that_raises_ends_the_stream_with_its_error():
    async def answer(item):
        if item == 2:
            raise RuntimeError("bug")
        await asyncio.sleep(0.05)
        return item

    with pytest.raises(RuntimeError, match="bug"):
        _collect([1, 2, 3], answer)


def test_a_client_that_stops_reading_stops_the_server_reading_requests():
    # Answers are instant; the client reads one answer and then nothing. The
    # server may hold at most max_in_flight answers, not all 5,000.
    read, answered = 0, 0

    async def requests():
        nonlocal read
        for item in range(5000):
            read += 1
            yield item

    async def answer(item):
        nonlocal answered
        answered += 1
        return item

    async def go():
        stream = answer_concurrently(requests(), answer, max_in_flight=8)
        await stream.__anext__()
        for _ in range(200):  # let every task the server would start run
            await asyncio.sleep(0)
        await stream.aclose()

    asyncio.run(go())
    assert answered <= 9
    assert read <= 10
