"""The num2words translator, trained in this test run, answering through the real server."""

from __future__ import annotations

from pathlib import Path

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import held_out_pairs, metric, request, stub
from tests.support.server_process import ServerProcess


def exact_match(server: ServerProcess, pairs: list[tuple[str, str]], beam: int) -> float:
    channel, client = stub(server.address)
    with channel:
        hits = 0
        for start in range(0, len(pairs), 32):
            chunk = pairs[start : start + 32]
            reply = client.Translate(
                request([s for s, _ in chunk], beam_size=beam, n_best=1), timeout=120
            )
            for (_, target), translation in zip(chunk, reply.translations, strict=True):
                hits += translation.hypotheses[0].text.strip() == target.strip()
    return hits / len(pairs)


def test_held_out_numbers_exact_match_greedy_and_beam(
    server: ServerProcess, numbers_run: Path
) -> None:
    pairs = held_out_pairs(numbers_run, 300)
    assert len(pairs) >= 200
    greedy = exact_match(server, pairs, beam=1)
    beam = exact_match(server, pairs, beam=4)
    print(f"held-out exact match: greedy {greedy:.3f}, beam 4 {beam:.3f} on {len(pairs)}")
    assert greedy >= 0.9
    assert beam >= 0.9


def test_n_best_is_sorted_and_distinct(server: ServerProcess) -> None:
    channel, client = stub(server.address)
    with channel:
        reply = client.Translate(request(["four hundred and twelve"], beam_size=5, n_best=5))
    hyps = reply.translations[0].hypotheses
    assert len(hyps) == 5
    scores = [h.score for h in hyps]
    assert scores == sorted(scores, reverse=True)
    assert len({tuple(h.tokens) for h in hyps}) == 5
    assert reply.model == "numbers" and reply.version == 1


def test_translate_stream_sends_partials_then_final(server: ServerProcess) -> None:
    channel, client = stub(server.address)
    with channel:
        events = list(client.TranslateStream(request(["seven thousand three hundred"],
                                                     beam_size=4)))
        unary = client.Translate(request(["seven thousand three hundred"], beam_size=4))
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    partial_steps = [e.partial.step for e in events if e.WhichOneof("event") == "partial"]
    assert partial_steps and partial_steps == sorted(partial_steps)
    final = events[-1].final.translations[0].hypotheses[0]
    assert final.text == unary.translations[0].hypotheses[0].text


def test_models_listing_reports_the_active_provider(server: ServerProcess) -> None:
    channel, client = stub(server.address)
    with channel:
        listing = client.ListModels(pb.ListModelsRequest())
        model = client.GetModel(pb.GetModelRequest(model="numbers"))
    assert [m.name for m in listing.models] == ["numbers"]
    assert model.kind == pb.MODEL_KIND_SEQ2SEQ
    assert "CPUExecutionProvider" in model.execution_providers
    assert model.translator.limits.max_beam_size == 6


def test_metrics_endpoint_counts_requests_and_steps(server: ServerProcess) -> None:
    channel, client = stub(server.address)
    before = metric(server.metrics_url, "seqserve_requests_total", model="numbers", code="OK")
    with channel:
        client.Translate(request(["nine"]))
    after = metric(server.metrics_url, "seqserve_requests_total", model="numbers", code="OK")
    assert after == before + 1
    assert metric(server.metrics_url, "seqserve_decode_step_seconds_count", model="numbers") > 0
    assert metric(server.metrics_url, "seqserve_decode_batch_rows_count", model="numbers") > 0
