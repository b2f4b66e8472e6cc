"""A small synchronous client of the seqserve.v1 domain API.

Takes and returns plain value types (seqserve.client.types: DecodingOptions,
SentenceResult, PartialUpdate), so callers never touch protobuf. Errors surface as
grpc.RpcError, whose .code() is the server's status.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import grpc

from seqserve.client import convert
from seqserve.client.channel import ChannelOption, connect
from seqserve.client.security import ClientSecurity
from seqserve.client.types import DecodingOptions, PartialUpdate, SentenceResult
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc


@dataclass(frozen=True)
class TranslateReply:
    model: str
    """The model that served the request."""
    version: int
    """The version that served it (resolved when the request asked for latest)."""
    sentences: list[SentenceResult] = field(default_factory=list)
    """One result per request sentence, same order."""


def _reply(msg: pb.TranslateResponse) -> TranslateReply:
    return TranslateReply(
        model=msg.model,
        version=msg.version,
        sentences=[convert.sentence_from_proto(t) for t in msg.translations],
    )


class TranslationClient:
    """A channel to one server; use as a context manager to close it.

    with TranslationClient("127.0.0.1:50051") as client:
        reply = client.translate(["hello"], model="en-fr")
    """

    def __init__(
        self, target: str, *, timeout: float | None = 30.0,
        channel_options: Sequence[ChannelOption] = (),
        security: ClientSecurity | None = None,
    ) -> None:
        self.timeout = timeout
        self._channel: grpc.Channel = connect(
            target, options=channel_options, security=security
        )
        self._stub = pb_grpc.SeqServeStub(self._channel)

    def _request(
        self,
        sentences: Sequence[str],
        model: str,
        version: int | None,
        options: DecodingOptions,
    ) -> pb.TranslateRequest:
        return pb.TranslateRequest(
            model=model,
            version=version or 0,
            sentences=list(sentences),
            options=convert.decoding_options_to_proto(options),
        )

    def translate(
        self,
        sentences: Sequence[str],
        *,
        model: str,
        version: int | None = None,
        options: DecodingOptions | None = None,
    ) -> TranslateReply:
        request = self._request(sentences, model, version, options or DecodingOptions())
        return _reply(self._stub.Translate(request, timeout=self.timeout))

    def translate_stream(
        self,
        sentences: Sequence[str],
        *,
        model: str,
        version: int | None = None,
        options: DecodingOptions | None = None,
    ) -> Iterator[PartialUpdate | TranslateReply]:
        """PartialUpdate while decoding advances, then one TranslateReply."""
        request = self._request(sentences, model, version, options or DecodingOptions())
        for msg in self._stub.TranslateStream(request, timeout=self.timeout):
            if msg.HasField("partial"):
                yield convert.partial_from_proto(msg.partial)
            elif msg.HasField("final"):
                yield _reply(msg.final)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> TranslationClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
