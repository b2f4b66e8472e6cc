"""PredictMany: steps of many sessions multiplexed over one stream.

Each request becomes one task: its steps are validated and queued together
(one scheduler lock per model), and its response goes out once all of them
are done. Requests are independent, so a slow one never holds back the next;
responses carry the request's id. Per-step errors travel in the response, so
one bad step never fails its batch-mates or the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import session_convert as sc
from seqserve.server.api.errors import INTERNAL_MESSAGE, grpc_method, status_for
from seqserve.server.errors import InvalidArgumentError, SeqServeError

log = logging.getLogger(__name__)

MAX_STEPS_PER_REQUEST = 4096
MAX_REQUESTS_IN_FLIGHT = 64
"""Requests of one stream being answered at once; reading waits beyond it, so a
client that never reads its responses cannot grow the server's memory."""


def step_error(exc: BaseException) -> pb.PredictManyResult:
    code = status_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.error("PredictMany step failed with an unexpected error", exc_info=exc)
        message = INTERNAL_MESSAGE
    else:
        message = str(exc) or code.name
    return pb.PredictManyResult(error=pb.StepError(code=code.value[0], message=message))


class PredictManyMethods:
    """The multiplexed session RPC (mixed into SeqServeServicer next to SessionMethods)."""

    _streaming: Callable[[str, int], Any]
    """From SessionMethods: the loaded streaming model, or the error naming why not."""

    @grpc_method
    async def PredictMany(
        self, requests: AsyncIterator[pb.PredictManyRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PredictManyResponse]:
        answers: asyncio.Queue[pb.PredictManyResponse | BaseException | None] = asyncio.Queue()
        room = asyncio.Semaphore(MAX_REQUESTS_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()

        async def answer(request: pb.PredictManyRequest) -> None:
            try:
                answers.put_nowait(await self._answer(request))
            except BaseException as exc:  # a bug in _answer: end the stream with it
                answers.put_nowait(exc)
                raise
            finally:
                room.release()

        async def read_all() -> None:
            try:
                async for request in requests:
                    await room.acquire()
                    task = asyncio.create_task(answer(request))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                for _ in range(MAX_REQUESTS_IN_FLIGHT):  # every answer is queued
                    await room.acquire()
                answers.put_nowait(None)
            except BaseException as exc:
                answers.put_nowait(exc)
                raise

        reader = asyncio.create_task(read_all())
        try:
            while (item := await answers.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in (reader, *tasks):
                task.cancel()
            for task in (reader, *tasks):
                with contextlib.suppress(BaseException):
                    await task

    async def _answer(self, request: pb.PredictManyRequest) -> pb.PredictManyResponse:
        steps = request.steps
        results: list[pb.PredictManyResult | None] = [None] * len(steps)
        if len(steps) > MAX_STEPS_PER_REQUEST:
            error = step_error(InvalidArgumentError(
                f"a PredictMany request carries {len(steps)} steps; at most "
                f"{MAX_STEPS_PER_REQUEST}"
            ))
            return pb.PredictManyResponse(
                request_id=request.request_id, results=[error] * len(steps)
            )
        # Steps grouped by model: each group is validated and queued in one call.
        groups: dict[tuple[str, int], list[int]] = {}
        for index, step in enumerate(steps):
            groups.setdefault((step.model, step.version), []).append(index)
        waits: list[tuple[list[int], Any, Any]] = []
        for (model, version), indices in groups.items():
            try:
                handle = self._streaming(model, version)
            except SeqServeError as exc:
                for index in indices:
                    results[index] = step_error(exc)
                continue
            items, queued = [], []
            for index in indices:
                step = steps[index]
                try:
                    if not step.session_id:
                        raise InvalidArgumentError(
                            "session_id is required (OpenSession returns one)"
                        )
                    handle.check_top_k(step.top_k)
                    items.append((step.session_id, sc.chunk_from_proto(step.chunk)))
                    queued.append(index)
                except SeqServeError as exc:
                    results[index] = step_error(exc)
            waits.append((queued, handle, handle.submit_many(items)))
        for queued, handle, batch in waits:
            outcomes = await batch.future
            for index, outcome in zip(queued, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    results[index] = step_error(outcome)
                    continue
                step = steps[index]
                result = handle.result(step.session_id, outcome, step.top_k)
                results[index] = pb.PredictManyResult(response=sc.predict_response(result))
        return pb.PredictManyResponse(request_id=request.request_id, results=results)
