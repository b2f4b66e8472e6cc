"""PredictMany: steps of many sessions multiplexed over one stream.

Each request is answered in its own task (concurrent_stream.py): its steps
are validated and queued together (one scheduler lock per model), and its
response, carrying the request's id, goes out once all of them are done.
Per-step errors travel in the response, so one bad step never fails its
batch-mates or the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import session_convert as sc
from seqserve.server.api.caller import caller_identity
from seqserve.server.api.concurrent_stream import answer_concurrently
from seqserve.server.api.errors import client_status, grpc_method
from seqserve.server.api.session_access import SessionAccess
from seqserve.server.api.stream_drain import StreamRegistry
from seqserve.server.errors import DrainingError, InvalidArgumentError, SeqServeError
from seqserve.server.kinds import StreamingHandle
from seqserve.server.metrics import PREDICT_MANY_STEPS

MAX_STEPS_PER_REQUEST = 4096
MAX_REQUESTS_IN_FLIGHT = 64
"""Requests of one stream being answered at once (reading waits beyond it)."""


def step_error(exc: BaseException) -> pb.PredictManyResult:
    code, message = client_status(exc, "a PredictMany step")
    return pb.PredictManyResult(error=pb.StepError(code=code.value[0], message=message))


_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


def count_steps(models: list[str], results: list[pb.PredictManyResult]) -> None:
    """One PREDICT_MANY_STEPS count per step: its model ("" unresolved) and own code."""
    for model, result in zip(models, results, strict=True):
        code = "OK" if result.HasField("response") else _CODE_NAMES.get(result.error.code, "")
        PREDICT_MANY_STEPS.labels(model, code).inc()


class PredictManyMethods:
    """The multiplexed session RPC (mixed into SeqServeServicer next to SessionMethods)."""

    _streaming: Callable[[str, int], StreamingHandle]
    streams: StreamRegistry
    session_access: SessionAccess
    """From SessionMethods: the loaded streaming model, or the error naming why not."""

    @grpc_method
    async def PredictMany(
        self, requests: AsyncIterator[pb.PredictManyRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PredictManyResponse]:
        access = self.session_access
        identity_owner = access.for_call(context, "") if caller_identity(context) else None

        def owner(token: str) -> str | None:
            return identity_owner or access.for_call(None, token)

        async for response in answer_concurrently(
            self.streams.guard(requests), lambda request: self._answer(request, owner),
            max_in_flight=MAX_REQUESTS_IN_FLIGHT,
        ):
            yield response

    async def _answer(
        self, request: pb.PredictManyRequest, owner: Callable[[str], str | None]
    ) -> pb.PredictManyResponse:
        steps = request.steps
        results: list[pb.PredictManyResult | None] = [None] * len(steps)
        models = [""] * len(steps)  # metric label per step: only names that resolved
        if len(steps) > MAX_STEPS_PER_REQUEST:
            error = step_error(InvalidArgumentError(
                f"a PredictMany request carries {len(steps)} steps; at most "
                f"{MAX_STEPS_PER_REQUEST}"
            ))
            count_steps(models, [error] * len(steps))
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
            items, queued, owners = [], [], []
            for index in indices:
                models[index] = handle.info.name
                step = steps[index]
                try:
                    if not step.session_id:
                        raise InvalidArgumentError(
                            "session_id is required (OpenSession returns one)"
                        )
                    handle.check_top_k(step.top_k)
                    items.append((step.session_id, sc.chunk_from_proto(step.chunk)))
                    owners.append(owner(step.session_token))
                    queued.append(index)
                except SeqServeError as exc:
                    results[index] = step_error(exc)
            waits.append((queued, handle, handle.submit_many(items, owners)))
        for queued, handle, batch in waits:
            outcomes = await batch.future
            if any(isinstance(o, DrainingError) for o in outcomes):
                await self.streams.wait_saved()  # refused for the drain: once it saved them
            for index, outcome in zip(queued, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    results[index] = step_error(outcome)
                    continue
                step = steps[index]
                result = handle.result(step.session_id, outcome, step.top_k)
                results[index] = pb.PredictManyResult(response=sc.predict_response(result))
        count_steps(models, results)
        return pb.PredictManyResponse(request_id=request.request_id, results=results)
