"""The typed Python client of every kind on the domain API (seqserve.v1).

TranslationClient (translation_client.py) covers translate; SeqServeClient adds tag,
caption and streaming sessions with the same conventions: plain Python in
and out (DecodingOptions, small frozen dataclasses), grpc.RpcError on a
refused call, one channel per client, usable as a context manager.

    with SeqServeClient("127.0.0.1:50051") as client:
        client.tag(["Bu kitap güzel ."], model="pos")
        client.caption([Path("scene.png").read_bytes()], model="scenes",
                       options=DecodingOptions(beam_size=5, n_best=3))
        client.predict([[315.7, 317.5], [317.6]], model="co2")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from seqserve.client import convert
from seqserve.client.session_client import (
    chunk_message,
    open_message,
    session_metadata,
    stream,
)
from seqserve.client.translation_client import TranslationClient
from seqserve.client.types import DecodingOptions, SentenceResult
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb


@dataclass(frozen=True)
class TaggedToken:
    token: str
    label: str
    probability: float
    top: list[tuple[str, float]] = field(default_factory=list)
    """The top_k labels with their probabilities, when the request asked for them."""


@dataclass(frozen=True)
class TagReply:
    model: str
    version: int
    sentences: list[list[TaggedToken]]


@dataclass(frozen=True)
class CaptionReply:
    model: str
    version: int
    captions: list[SentenceResult]
    """One n-best list per image, same order."""


@dataclass(frozen=True)
class Step:
    forecast: list[float]
    candidates: list[tuple[str, int, float]]
    """(token, id, probability), most likely first."""
    surprise_bits: float | None


@dataclass(frozen=True)
class PredictReply:
    session_id: str
    steps: list[Step]
    """One per input step, over every chunk, in order."""
    position: int = 0
    """The session's position when it opened (where the sent chunks started)."""
    resumed: bool = False
    session_token: str = ""
    """The session's token (anonymous callers on servers with session isolation, the
    default). The client remembers it and sends it when this client reopens or resumes
    the session; pass it explicitly from another client."""
    replayed: list[Step] = field(default_factory=list)
    """With `resume_from`: the outputs of steps resume_from..position-1, sent again."""


Chunk = Sequence[float] | str
"""Float values (steps x features, flattened) or text (one step per character)."""


def _chunk_request(chunk: Chunk, top_k: int) -> pb.PredictRequest:
    if isinstance(chunk, str):
        return chunk_message(text=chunk, top_k=top_k)
    return chunk_message(values=[float(v) for v in chunk], top_k=top_k)


def _step(msg: pb.StepOutput) -> Step:
    return Step(list(msg.forecast), [(c.token, c.id, c.probability) for c in msg.candidates],
                msg.surprise_bits if msg.HasField("surprise_bits") else None)


class SeqServeClient(TranslationClient):
    """Remembers the session_token each open returned, per (model, session id), and sends
    it on every later call of that session from this client."""

    def _token_for(self, model: str, session_id: str, given: str) -> str:
        if given or not session_id:
            return given
        return self._session_tokens().get((model, session_id), "")

    def _remember(self, model: str, opened: pb.SessionInfo) -> None:
        if opened.session_token:
            self._session_tokens()[(model, opened.session_id)] = opened.session_token

    def _session_tokens(self) -> dict[tuple[str, str], str]:
        # Set on first use: TranslationClient.__init__ is shared with other clients.
        return self.__dict__.setdefault("_tokens_by_session", {})

    def tag(
        self, texts: Sequence[str] = (), *, sentences: Sequence[Sequence[str]] = (),
        model: str, version: int | None = None, top_k: int = 0,
    ) -> TagReply:
        """Raw `texts` (split on whitespace by the server) or pre-tokenised `sentences`."""
        request = pb.TagRequest(
            model=model, version=version or 0, texts=list(texts), top_k=top_k,
            sentences=[pb.TagTokens(tokens=list(tokens)) for tokens in sentences],
        )
        reply = self._stub.Tag(request, timeout=self.timeout)
        return TagReply(reply.model, reply.version, [
            [TaggedToken(t.token, t.label, t.probability,
                         [(top.label, top.probability) for top in t.top])
             for t in sentence.tokens]
            for sentence in reply.sentences
        ])

    def caption(
        self, images: Sequence[bytes | np.ndarray], *, model: str, version: int | None = None,
        options: DecodingOptions | None = None,
    ) -> CaptionReply:
        """Encoded PNG/JPEG bytes, or normalised float32 [3,H,W] arrays."""
        items = []
        for image in images:
            if isinstance(image, np.ndarray):
                array = np.ascontiguousarray(image, dtype=np.float32)
                items.append(pb.CaptionImage(tensor=pb.ImageTensor(
                    shape=list(array.shape), dtype="float32", data=array.tobytes())))
            else:
                items.append(pb.CaptionImage(encoded=bytes(image)))
        request = pb.CaptionRequest(
            model=model, version=version or 0, images=items,
            options=convert.decoding_options_to_proto(options or DecodingOptions()),
        )
        reply = self._stub.Caption(request, timeout=self.timeout)
        return CaptionReply(reply.model, reply.version, [
            SentenceResult([convert.hypothesis_from_proto(h) for h in c.hypotheses],
                           c.decode_steps)
            for c in reply.captions
        ])

    def predict(
        self, chunks: Sequence[Chunk], *, model: str, session_id: str = "", top_k: int = 0,
        keep: bool = False, resume_from: int | None = None, session_token: str = "",
    ) -> PredictReply:
        """Run `chunks` through one session (new, or `session_id`) on one Predict stream.

        Resuming after an UNAVAILABLE (a drain, a lost replica): pass the position
        after the last step received as `resume_from` and send the chunks from the
        reply's `position`; missed outputs come back in `replayed`."""
        messages = [_chunk_request(chunk, top_k) for chunk in chunks]
        responses = stream(self._stub, model, messages, session_id, keep=keep,
                           timeout=self.timeout or 60.0, resume_from=resume_from,
                           session_token=self._token_for(model, session_id, session_token))
        opened = responses[0].session
        self._remember(model, opened)
        steps = [_step(s) for response in responses[1:] for s in response.steps]
        return PredictReply(
            opened.session_id, steps, position=opened.position, resumed=opened.resumed,
            session_token=opened.session_token,
            replayed=[_step(s) for s in opened.replay.steps],
        )

    def predict_stream(
        self, chunks: Iterable[Chunk], *, model: str, session_id: str = "", top_k: int = 0,
        keep: bool = False, session_token: str = "",
    ) -> Iterator[str | list[Step]]:
        """One Predict stream, lazily: the session id once it is open, then the steps
        of each chunk as its answer arrives. `chunks` is read only as the stream
        sends, so a caller that sleeps inside it paces the session."""

        def requests() -> Iterator[pb.PredictRequest]:
            yield open_message(model, session_id, keep=keep,
                               session_token=self._token_for(model, session_id, session_token))
            for chunk in chunks:
                yield _chunk_request(chunk, top_k)

        responses = self._stub.Predict(requests(), timeout=self.timeout,
                                       metadata=session_metadata(session_id))
        for response in responses:
            if response.HasField("session"):
                self._remember(model, response.session)
                yield response.session.session_id
            else:
                yield [_step(s) for s in response.steps]

    def __enter__(self) -> SeqServeClient:
        return self
