"""Reloading a model while clients use THAT model fails none of their requests: the
new copy loads beside the old one, new requests go to it, and the old one stops only
once it has answered what it accepted. Tagger traffic rides along (its own batcher)."""

from __future__ import annotations

import threading

import grpc
from tritonclient.grpc import service_pb2

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.kserve.conftest import SECOND_TRANSLATOR, TAGGER
from tests.kserve.kserve_helpers import raw_stub

RELOADS = 4
CLIENTS = 4
SENTENCES = ["forty two", "seven", "one hundred", "twelve"]


def test_reloading_a_model_under_its_own_traffic_fails_no_request(kserve_server) -> None:
    channel, client = stub(kserve_server.address)
    with channel:
        def ask(sentence: str) -> list[str]:
            reply = client.Translate(
                request([sentence], model=SECOND_TRANSLATOR, beam_size=2, n_best=1),
                timeout=60)
            return [h.text for t in reply.translations for h in t.hypotheses]

        def tag() -> list[str]:
            reply = client.Tag(pb.TagRequest(model=TAGGER, texts=["the cat sat"]), timeout=60)
            return [t.label for s in reply.sentences for t in s.tokens]

        expected = {s: ask(s) for s in SENTENCES}
        expected_tags = tag()
        failures: list[str] = []
        answers = 0
        stop = threading.Event()

        def traffic(offset: int) -> None:
            nonlocal answers
            n = offset
            while not stop.is_set():
                sentence = SENTENCES[n % len(SENTENCES)]
                n += 1
                try:
                    if n % 3 == 0:
                        assert tag() == expected_tags
                    else:
                        got = ask(sentence)
                        assert got == expected[sentence], (sentence, got)
                    answers += 1
                except grpc.RpcError as exc:
                    failures.append(f"{exc.code()}: {exc.details()}")
                except AssertionError as exc:
                    failures.append(f"changed answer {exc}")

        workers = [threading.Thread(target=traffic, args=(i,)) for i in range(CLIENTS)]
        for worker in workers:
            worker.start()
        try:
            with raw_stub(kserve_server.address) as kserve:
                for _ in range(RELOADS):
                    for name in (SECOND_TRANSLATOR, TAGGER):
                        kserve.RepositoryModelLoad(
                            service_pb2.RepositoryModelLoadRequest(model_name=name), timeout=120)
        finally:
            stop.set()
            for worker in workers:
                worker.join(120)
    assert not failures, failures[:5]
    assert answers > RELOADS
    assert kserve_server.alive()
