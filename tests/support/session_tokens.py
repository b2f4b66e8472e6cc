"""Session tokens for tests, kept the way a real client keeps them.

The server's default (`--session-tokens required`) returns a session_token
from the open that creates an anonymous session and refuses every later call
of that session without it. `TokenBook` remembers the token of each
(model, session id) from the responses that carry one (OpenSession's
SessionInfo, a Predict stream's first response); `TokenStub` wraps a
SeqServeStub and puts the remembered token on every call that touches the
session (PredictStep, GetSession, CloseSession, a reopen, PredictMany steps, a
Predict stream's open) when the request does not carry one itself.

One book per test process (`BOOK`): the process is one client application, so a
session opened on one channel is resumed with its token on another (a
reconnect, another replica). Tests of isolation itself use a raw stub.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb


class TokenBook:
    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}

    def learn(self, model: str, info: pb.SessionInfo) -> None:
        if info.session_token and info.session_id:
            self._tokens[(model, info.session_id)] = info.session_token

    def token(self, model: str, session_id: str) -> str:
        return self._tokens.get((model, session_id), "") if session_id else ""

    def fill(self, request: Any) -> Any:
        """`request` (any message with model, session_id and session_token) with the
        remembered token, unless it carries its own; the caller's message is not changed."""
        if request.session_token:
            return request
        token = self.token(request.model, request.session_id)
        if not token:
            return request
        filled = type(request)()
        filled.CopyFrom(request)
        filled.session_token = token
        return filled

    def fill_predict(self, message: pb.PredictRequest) -> pb.PredictRequest:
        if not message.HasField("open"):
            return message
        opened = self.fill(message.open)
        if opened is message.open:
            return message
        filled = pb.PredictRequest()
        filled.CopyFrom(message)
        filled.open.CopyFrom(opened)
        return filled

    def fill_many(self, message: pb.PredictManyRequest) -> pb.PredictManyRequest:
        steps = [self.fill(step) for step in message.steps]
        if all(a is b for a, b in zip(steps, message.steps, strict=True)):
            return message
        filled = pb.PredictManyRequest()
        filled.CopyFrom(message)
        del filled.steps[:]
        filled.steps.extend(steps)
        return filled


BOOK = TokenBook()


class _LearningStream:
    """A Predict call whose responses teach the book the session's token; every
    other attribute (cancel, code, details, ...) is the call's."""

    def __init__(self, call: Any, book: TokenBook, model: list[str]) -> None:
        self._call, self._book, self._model = call, book, model

    def __iter__(self) -> _LearningStream:
        return self

    def __next__(self) -> pb.PredictResponse:
        response = next(self._call)
        if response.HasField("session") and self._model:
            self._book.learn(self._model[0], response.session)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


class TokenStub:
    """A SeqServeStub that sends each session's remembered token (module docstring)."""

    def __init__(self, stub: Any, book: TokenBook = BOOK) -> None:
        self._stub, self.book = stub, book

    def OpenSession(self, request: pb.OpenSessionRequest, **kwargs: Any) -> pb.SessionInfo:
        info = self._stub.OpenSession(self.book.fill(request), **kwargs)
        self.book.learn(request.model, info)
        return info

    def PredictStep(self, request: pb.PredictStepRequest, **kwargs: Any) -> Any:
        return self._stub.PredictStep(self.book.fill(request), **kwargs)

    def GetSession(self, request: pb.SessionRef, **kwargs: Any) -> pb.SessionInfo:
        return self._stub.GetSession(self.book.fill(request), **kwargs)

    def CloseSession(self, request: pb.SessionRef, **kwargs: Any) -> pb.SessionInfo:
        return self._stub.CloseSession(self.book.fill(request), **kwargs)

    def PredictMany(self, requests: Iterable[pb.PredictManyRequest], **kwargs: Any) -> Any:
        return self._stub.PredictMany((self.book.fill_many(m) for m in requests), **kwargs)

    def Predict(self, requests: Iterable[pb.PredictRequest], **kwargs: Any) -> Any:
        model: list[str] = []

        def filled() -> Iterator[pb.PredictRequest]:
            for message in requests:
                if message.HasField("open") and not model:
                    model.append(message.open.model)
                yield self.book.fill_predict(message)

        return _LearningStream(self._stub.Predict(filled(), **kwargs), self.book, model)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)
