"""Helpers for calling the session RPCs of the real server."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import grpc

from seqserve.client.session_client import chunk_message, open_message
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.support.polling import wait_until
from tests.support.session_tokens import TokenStub

__all__ = ["OpenStream", "chunk_message", "open_message", "wait_until"]


class OpenStream:
    """A Predict stream held open: send() one message, recv() one response.

    The open carries the session's remembered token and the first response teaches
    it (tests/support/session_tokens.py); `keep_tokens=False` sends only `session_token`."""

    def __init__(self, stub, model: str, session_id: str = "", *, keep: bool = False,
                 session_token: str = "", keep_tokens: bool = True) -> None:
        if keep_tokens and not isinstance(stub, TokenStub):
            stub = TokenStub(stub)
        self._requests: queue.Queue[pb.PredictRequest | None] = queue.Queue()
        self._requests.put(open_message(model, session_id, keep=keep,
                                        session_token=session_token))
        self.call = stub.Predict(self._iterate())
        self._responses = iter(self.call)
        self._lock = threading.Lock()

    def _iterate(self) -> Iterator[pb.PredictRequest]:
        while True:
            item = self._requests.get()
            if item is None:
                return
            yield item

    def send(self, message: pb.PredictRequest) -> None:
        self._requests.put(message)

    def recv(self) -> pb.PredictResponse:
        return next(self._responses)

    def step(self, message: pb.PredictRequest) -> pb.PredictResponse:
        self.send(message)
        return self.recv()

    def finish(self) -> list[pb.PredictResponse]:
        """Half-close and drain the rest."""
        self._requests.put(None)
        return list(self._responses)

    def cancel(self) -> None:
        self.call.cancel()
        self._requests.put(None)

    def code(self) -> grpc.StatusCode | None:
        return self.call.code()
