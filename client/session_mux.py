"""SessionMux: an asyncio client that carries the steps of many sessions over one
PredictMany stream, for a gateway that serves many end users.

`await mux.predict(model, session_id, chunk)` looks like a unary call per step;
underneath, the steps submitted within `window` seconds of each other go out
as one request. That is what makes thousands of sessions at ~10 steps/s each
affordable: a gRPC message costs the server more than a batched step does.

The mux remembers the session_token each open returned (anonymous callers on a
server with session isolation, the default) and sends it with every step and
the close of that session.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc


class StepRefused(Exception):
    """The server refused one step (the others of its request are unaffected)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code, self.message = code, message


_CODES = {code.value[0]: code for code in grpc.StatusCode}


class SessionMux:
    def __init__(
        self, channel: grpc.aio.Channel, *, window: float = 0.002, max_steps: int = 1024
    ) -> None:
        self.stub = pb_grpc.SeqServeStub(channel)
        self.window, self.max_steps = window, max_steps
        self._batch: list[pb.PredictStepRequest] = []
        self._waiting: list[asyncio.Future[pb.PredictResponse]] = []
        self._in_flight: dict[int, list[asyncio.Future[pb.PredictResponse]]] = {}
        self._ids = itertools.count(1)
        self._outbox: asyncio.Queue[pb.PredictManyRequest | None] = asyncio.Queue()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._call: grpc.aio.StreamStreamCall | None = None
        self._reader: asyncio.Task[None] | None = None
        self.requests_sent = 0
        self._tokens: dict[tuple[str, str], str] = {}
        """(model, session id) -> the session_token its open returned."""

    async def __aenter__(self) -> SessionMux:
        self._call = self.stub.PredictMany(self._requests())
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flush()
        self._outbox.put_nowait(None)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await self._reader

    async def open(
        self, model: str, session_id: str = "", *, session_token: str = ""
    ) -> pb.SessionInfo:
        """Open (or, with the token another client got, reopen) a session."""
        token = session_token or self._tokens.get((model, session_id), "")
        request = pb.OpenSessionRequest(model=model, session_id=session_id, session_token=token)
        info = await self.stub.OpenSession(request)
        if info.session_token:
            self._tokens[(model, info.session_id)] = info.session_token
        return info

    async def close_session(self, model: str, session_id: str) -> pb.SessionInfo:
        token = self._tokens.get((model, session_id), "")
        info = await self.stub.CloseSession(
            pb.SessionRef(model=model, session_id=session_id, session_token=token))
        self._tokens.pop((model, session_id), None)
        return info

    def predict(
        self, model: str, session_id: str, chunk: pb.Chunk, *, top_k: int = 0
    ) -> asyncio.Future[pb.PredictResponse]:
        """Queue one step; the future resolves with its response or StepRefused."""
        future: asyncio.Future[pb.PredictResponse] = asyncio.get_running_loop().create_future()
        self._batch.append(pb.PredictStepRequest(
            model=model, session_id=session_id, chunk=chunk, top_k=top_k,
            session_token=self._tokens.get((model, session_id), ""),
        ))
        self._waiting.append(future)
        if len(self._batch) >= self.max_steps:
            self.flush()
        elif self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(self.window, self.flush)
        return future

    def flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if not self._batch:
            return
        request_id = next(self._ids)
        self._in_flight[request_id] = self._waiting
        self._outbox.put_nowait(pb.PredictManyRequest(request_id=request_id, steps=self._batch))
        self._batch, self._waiting = [], []
        self.requests_sent += 1

    async def _requests(self) -> AsyncIterator[pb.PredictManyRequest]:
        while (request := await self._outbox.get()) is not None:
            yield request

    async def _read(self) -> None:
        assert self._call is not None
        try:
            async for response in self._call:
                futures = self._in_flight.pop(response.request_id)
                for future, result in zip(futures, response.results, strict=True):
                    if future.done():
                        continue
                    if result.WhichOneof("outcome") == "response":
                        future.set_result(result.response)
                    else:
                        code = _CODES.get(result.error.code, grpc.StatusCode.UNKNOWN)
                        future.set_exception(StepRefused(code, result.error.message))
        except BaseException as exc:
            # The stream itself failed: every step still waiting fails with it.
            for futures in self._in_flight.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else
                                             ConnectionError("PredictMany stream ended"))
            raise
