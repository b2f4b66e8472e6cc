"""Locust users for every kind seqserve serves, built on seqserve's own client.

Run through `seqserve loadtest` (which picks the users whose model is given,
runs locust headless, and checks the SLO gates), or directly:

    locust -f deploy/loadtest/locustfile.py --headless -H 127.0.0.1:50051 \\
        -u 8 -r 8 -t 30s --translator numbers TranslateUser TranslateStreamUser

Each task times one call and reports it with `events.request` (locust's
pattern for non-HTTP clients). Request names are the RPCs, and they are the
keys of the p99 gates in slo.yaml: Translate, TranslateStream,
TranslateStream first partial, Tag, Caption, Predict open, Predict chunk,
ModelInfer.
"""

from __future__ import annotations

# gRPC's own threads must cooperate with gevent, which locust has already
# monkey-patched in: without this, blocking calls stall every other user.
import grpc.experimental.gevent as grpc_gevent

grpc_gevent.init_gevent()

import io  # noqa: E402 - after init_gevent, on purpose
import random  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import grpc  # noqa: E402
from locust import User, constant, events, task  # noqa: E402
from locust.exception import StopUser  # noqa: E402

from seqserve.client import DecodingOptions, SeqServeClient, connect  # noqa: E402
from seqserve.client.kinds_client import Chunk  # noqa: E402
from seqserve.client.security import (  # noqa: E402
    LOCUST_PREFIX,
    add_client_security_arguments,
    client_security_from_args,
)
from seqserve.protos.inference import grpc_service_pb2 as kserve_pb  # noqa: E402
from seqserve.protos.inference import grpc_service_pb2_grpc as kserve_grpc  # noqa: E402

SENTENCES = ["forty two", "seven hundred", "one thousand and three", "ninety nine",
             "twelve", "three hundred and sixty five"]
TAG_TEXTS = ["Bu kitap çok güzel .", "Ali eve gitti .", "Bu bir deneme ."]
TEXT_CHUNK = "the quick brown fox "


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("seqserve", "models and request shapes")
    group.add_argument("--translator", default="", help="model for Translate/TranslateStream")
    group.add_argument("--tagger", default="", help="model for Tag")
    group.add_argument("--captioner", default="", help="model for Caption")
    group.add_argument("--session-model", default="", help="streaming model for Predict")
    group.add_argument("--kserve-model", default="",
                       help="translator called through KServe v2 ModelInfer (input TEXT)")
    group.add_argument("--beam-size", type=int, default=0, help="0 = the model's default")
    group.add_argument("--n-best", type=int, default=0, help="0 = the model's default")
    group.add_argument("--session-chunks", type=int, default=8, help="chunks per session")
    group.add_argument("--chunk-rate", type=float, default=20.0, help="chunks/s per session")
    group.add_argument("--chunk-steps", type=int, default=4, help="steps per chunk")
    group.add_argument("--session-text", action="store_true",
                       help="chunks are text (a character model), not float values")
    group.add_argument("--rpc-timeout", type=float, default=30.0, help="deadline per call, s")
    add_client_security_arguments(group, prefix=LOCUST_PREFIX)


def _report(user: User, name: str, started: float, exception: BaseException | None,
            length: int = 0) -> None:
    user.environment.events.request.fire(
        request_type="grpc", name=name, response_time=(time.perf_counter() - started) * 1000,
        response_length=length, exception=exception, context={},
    )


class _SeqServeUser(User):
    """A user with one client (one channel) to the target; subclasses add one task."""

    abstract = True
    wait_time = constant(0)
    model_option = ""

    def on_start(self) -> None:
        self.options = self.environment.parsed_options
        self.model = getattr(self.options, self.model_option)
        if not self.model:
            raise StopUser()  # this kind was not asked for
        self.security = client_security_from_args(self.options, prefix=LOCUST_PREFIX)
        self.client = SeqServeClient(
            self.host, timeout=self.options.rpc_timeout, security=self.security
        )

    def on_stop(self) -> None:
        if hasattr(self, "client"):
            self.client.close()

    def decoding(self) -> DecodingOptions:
        return DecodingOptions(beam_size=self.options.beam_size or None,
                               n_best=self.options.n_best or None)

    def timed(self, name: str, call: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            call()
        except grpc.RpcError as exc:
            _report(self, name, started, exc)
        else:
            _report(self, name, started, None)


class TranslateUser(_SeqServeUser):
    model_option = "translator"

    @task
    def translate(self) -> None:
        sentences = random.sample(SENTENCES, 2)
        self.timed("Translate", lambda: self.client.translate(
            sentences, model=self.model, options=self.decoding()))


class TranslateStreamUser(_SeqServeUser):
    model_option = "translator"

    @task
    def translate_stream(self) -> None:
        """The whole stream, and separately the time to its first partial hypothesis."""
        started = time.perf_counter()
        first_partial = True
        try:
            for event in self.client.translate_stream(
                    random.sample(SENTENCES, 2), model=self.model, options=self.decoding()):
                if first_partial and not hasattr(event, "sentences"):
                    _report(self, "TranslateStream first partial", started, None)
                    first_partial = False
        except grpc.RpcError as exc:
            _report(self, "TranslateStream", started, exc)
        else:
            _report(self, "TranslateStream", started, None)


class TagUser(_SeqServeUser):
    model_option = "tagger"

    @task
    def tag(self) -> None:
        self.timed("Tag", lambda: self.client.tag([random.choice(TAG_TEXTS)], model=self.model,
                                                  top_k=2))


def _png(seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, size=(48, 48, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class CaptionUser(_SeqServeUser):
    model_option = "captioner"

    def on_start(self) -> None:
        super().on_start()
        self.images = [_png(seed) for seed in range(4)]

    @task
    def caption(self) -> None:
        image = random.choice(self.images)
        self.timed("Caption", lambda: self.client.caption([image], model=self.model,
                                                          options=self.decoding()))


class SessionUser(_SeqServeUser):
    """Opens a session on a Predict stream, sends chunks at --chunk-rate, then closes
    it by ending the stream; each chunk is timed from its send to its answer."""

    model_option = "session_model"

    def _chunk(self) -> Chunk:
        steps = self.options.chunk_steps
        if self.options.session_text:
            return (TEXT_CHUNK * steps)[:steps]
        return [round(random.uniform(315.0, 345.0), 2) for _ in range(steps)]

    def _paced(self, sent: deque[float]) -> Iterator[Chunk]:
        interval = 1.0 / self.options.chunk_rate
        for index in range(self.options.session_chunks):
            if index:
                time.sleep(interval)  # gevent-patched: other users run meanwhile
            sent.append(time.perf_counter())
            yield self._chunk()

    @task
    def session(self) -> None:
        sent: deque[float] = deque()
        started = time.perf_counter()
        opened = False
        try:
            for event in self.client.predict_stream(self._paced(sent), model=self.model):
                if isinstance(event, str):
                    _report(self, "Predict open", started, None)
                    opened = True
                else:
                    _report(self, "Predict chunk", sent.popleft(), None)
        except grpc.RpcError as exc:
            _report(self, "Predict chunk" if opened else "Predict open",
                    sent.popleft() if opened and sent else started, exc)


class KServeUser(_SeqServeUser):
    """KServe v2 ModelInfer on a translator (input TEXT, BYTES [1, 1])."""

    model_option = "kserve_model"

    def on_start(self) -> None:
        super().on_start()
        self.channel = connect(self.host, security=self.security)
        self.stub = kserve_grpc.GRPCInferenceServiceStub(self.channel)

    def on_stop(self) -> None:
        if hasattr(self, "channel"):
            self.channel.close()
        super().on_stop()

    @task
    def infer(self) -> None:
        text = random.choice(SENTENCES).encode()
        request = kserve_pb.ModelInferRequest(model_name=self.model, inputs=[
            kserve_pb.ModelInferRequest.InferInputTensor(
                name="TEXT", datatype="BYTES", shape=[1, 1],
                contents=kserve_pb.InferTensorContents(bytes_contents=[text]))])
        self.timed("ModelInfer", lambda: self.stub.ModelInfer(
            request, timeout=self.options.rpc_timeout))
