"""Deadlines, cancellation and batch-mates: aborted work leaves the batch, others finish."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import pytest

from tests.integration.grpc_helpers import metric, request, stub
from tests.support.polling import wait_until
from tests.support.server_process import ServerProcess, running_server

# min_length keeps EOS out, so these sentences decode for exactly LONG steps:
# long enough for a deadline or a cancel to land mid-decode.
LONG = 250
# The deadline of a doomed request: far below LONG steps' decode time (about
# 150 ms for a few sentences on an idle 2-core machine, measured; 0.2-0.3 s
# deadlines made these tests pass only when the machine was busy), far above
# the few milliseconds a request needs to reach the engine's queue.
DOOMED_TIMEOUT = 0.05


def live_sentences(server: ServerProcess) -> float:
    return metric(server.metrics_url, "seqserve_live_sentences", model="numbers")


def test_deadline_exceeded_removes_the_rows(numbers_repository: Path) -> None:
    # A fresh server: one that has measured its decode cost refuses this doomed request
    # at admission, before any work (tests/engine/test_admission.py). Before anything is
    # measured every request is admitted, so here the deadline lands mid-decode.
    with running_server(numbers_repository) as server:
        _deadline_mid_decode_removes_the_rows(server)


def _deadline_mid_decode_removes_the_rows(server: ServerProcess) -> None:
    before = metric(server.metrics_url, "seqserve_aborted_sentences_total", reason="deadline")
    channel, client = stub(server.address)
    with channel:
        with pytest.raises(grpc.RpcError) as raised:
            client.Translate(
                request(["one", "two", "three"], beam_size=4, min_length=LONG, max_length=LONG),
                timeout=DOOMED_TIMEOUT,
            )
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert wait_until(lambda: live_sentences(server) == 0)
        after = metric(server.metrics_url, "seqserve_aborted_sentences_total")
        assert after > before
        assert client.Translate(request(["five"]), timeout=30).translations


def test_client_cancel_mid_decode_frees_rows(server: ServerProcess) -> None:
    before = metric(server.metrics_url, "seqserve_aborted_sentences_total", reason="cancelled")
    channel, client = stub(server.address)
    with channel:
        call = client.TranslateStream(
            request(["eight", "nine"], beam_size=4, min_length=LONG, max_length=LONG),
            timeout=60,
        )
        first = next(call)  # decoding has started: a partial hypothesis arrived
        assert first.WhichOneof("event") == "partial"
        call.cancel()
        assert wait_until(
            lambda: metric(server.metrics_url, "seqserve_aborted_sentences_total",
                           reason="cancelled") >= before + 2
        )
        assert wait_until(lambda: live_sentences(server) == 0)
        assert client.Translate(request(["six"]), timeout=30).translations


def test_aborted_requests_never_fail_their_batch_mates(server: ServerProcess) -> None:
    sentences = [f"{w} hundred" for w in ("two", "three", "four", "five", "six", "seven")]
    channel, client = stub(server.address)
    with channel:
        alone = [client.Translate(request([s], beam_size=4, n_best=2)) for s in sentences]
        outcomes: dict[str, object] = {}

        def good(i: int) -> None:
            outcomes[f"good{i}"] = client.Translate(
                request([sentences[i]], beam_size=4, n_best=2), timeout=60
            )

        def doomed() -> None:
            try:
                client.Translate(request(["one", "two"], beam_size=4, min_length=LONG,
                                         max_length=LONG), timeout=DOOMED_TIMEOUT)
            except grpc.RpcError as exc:
                outcomes["doomed"] = exc.code()

        def cancelled() -> None:
            call = client.TranslateStream(
                request(["ten"], beam_size=4, min_length=LONG, max_length=LONG), timeout=60
            )
            next(call)
            call.cancel()
            outcomes["cancelled"] = True

        threads = [threading.Thread(target=doomed), threading.Thread(target=cancelled)]
        threads += [threading.Thread(target=good, args=(i,)) for i in range(len(sentences))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    assert outcomes["doomed"] == grpc.StatusCode.DEADLINE_EXCEEDED
    assert outcomes["cancelled"] is True
    for i, reply in enumerate(alone):
        together = outcomes[f"good{i}"]
        assert [list(h.tokens) for h in together.translations[0].hypotheses] == [  # type: ignore[attr-defined]
            list(h.tokens) for h in reply.translations[0].hypotheses
        ]
