"""Export of a tiny contract module: symbolic dims, parity at unseen shapes, graph semantics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import seqserve.export.onnx_export as onnx_export
from seqserve.export.graph_checks import GraphSignatureError, describe
from seqserve.export.graphs import build_graphs
from seqserve.export.inputs import ModelDims, decoder_batch, encoder_batch, probe_dims
from seqserve.export.parity import TOLERANCE, cpu_session
from seqserve.export.signature import decoder_signature
from seqserve.server.repository.config import Seq2SeqTensors
from tests.export.conftest import TinyCorpus
from tests.export.step_checks import assert_rows_match_decode_step
from tests.export.tiny_module import TinySeq2Seq

T = Seq2SeqTensors()


@pytest.fixture(scope="module")
def dims(tiny_module: TinySeq2Seq, tiny_corpus: TinyCorpus) -> ModelDims:
    return probe_dims(tiny_module, tiny_corpus.source_vocab)


def test_dynamo_exports_both_graphs_within_tolerance(published: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["exporter"] == {"encoder": "dynamo", "decoder": "dynamo"}
    for graph in ("encoder", "decoder"):
        assert manifest["graphs"][graph]["failed_attempts"] == {}
        parity = manifest["parity"][graph]
        assert parity["ok"]
        assert max(parity["max_abs_diff"].values()) <= TOLERANCE
        assert len(parity["cases"]) >= 5
    decoder = manifest["parity"]["decoder"]
    assert decoder["topk_ids_compared"] > 0
    assert decoder["topk_ids_mismatched"] == 0
    assert set(decoder["max_abs_diff"]) == {"topk_logprobs", "h_out", "c_out", "attention"}


def test_dynamic_dims_are_symbolic(published: Path, dims: ModelDims) -> None:
    out = published
    encoder = describe(onnx.load(str(out / "encoder.onnx")))
    decoder = describe(onnx.load(str(out / "decoder.onnx")))
    assert encoder["inputs"] == {"src_tokens": ["B", "S"], "src_lengths": ["B"]}
    assert encoder["outputs"]["memory"][:2] == ["B", "S"]
    assert encoder["outputs"]["init_h"] == [dims.layers, "B", dims.hidden]
    L, H, M = dims.layers, dims.hidden, dims.memory_dim
    assert decoder["inputs"] == {
        "prev_tokens": ["N"],
        "h": [L, "N", H],
        "c": [L, "N", H],
        "memory": ["R", "S", M],
        "memory_mask": ["R", "S"],
        "memory_index": ["N"],
        "k": [1],
    }
    assert decoder["outputs"]["topk_ids"] == ["N", "k"]
    assert decoder["outputs"]["attention"] == ["N", "S"]


@torch.no_grad()
def test_decoder_gathers_memory_by_row(published: Path, tiny_module: TinySeq2Seq, dims) -> None:
    """Each row must read its own request's memory and mask: compare with decode_step
    run on that request alone (no index, no TopK), at a shape unseen by the export."""
    out = published
    rng = np.random.default_rng(5)
    batch = decoder_batch(T, rng, dims, rows=7, requests=3, src_len=4, k=dims.target_vocab)
    batch[T.memory_index] = np.array([2, 2, 0, 1, 1, 1, 0])  # any order, not only sorted
    names = decoder_signature(T).output_names
    got = dict(zip(names, cpu_session(out / "decoder.onnx").run(names, batch), strict=True))
    references = assert_rows_match_decode_step(tiny_module, T, batch, got)
    for row, (request, logp) in enumerate(zip(batch[T.memory_index], references, strict=True)):
        # The ids name the log probs they come with; padding gets no attention.
        np.testing.assert_allclose(logp[got[T.topk_ids][row]], got[T.topk_logprobs][row],
                                   atol=1e-5)
        assert np.all(got[T.attention][row][~batch[T.memory_mask][request]] < 1e-6)
    np.testing.assert_allclose(np.exp(got[T.topk_logprobs]).sum(axis=1), 1.0, atol=1e-5)


def test_graphs_run_at_extreme_shapes(published: Path, dims: ModelDims) -> None:
    out = published
    rng = np.random.default_rng(6)
    encoder = cpu_session(out / "encoder.onnx")
    for batch_size, src_len in [(1, 1), (3, 57)]:
        memory, h, _ = encoder.run(None, encoder_batch(T, rng, batch_size, src_len, 10))
        assert memory.shape == (batch_size, src_len, dims.memory_dim)
        assert h.shape == (dims.layers, batch_size, dims.hidden)
    decoder = cpu_session(out / "decoder.onnx")
    for rows, requests, src_len, k in [(1, 1, 1, 1), (33, 5, 40, 3)]:
        logp, ids, *_ = decoder.run(None, decoder_batch(T, rng, dims, rows, requests, src_len, k))
        assert logp.shape == ids.shape == (rows, k)
        assert np.all(np.diff(logp, axis=1) <= 0)


def test_legacy_exporter_also_passes(tiny_module: TinySeq2Seq, dims, tmp_path: Path) -> None:
    builds = build_graphs(tiny_module, tmp_path, T, dims, exporters=("legacy",))
    assert all(b.exporter == "legacy" and b.parity.ok for b in builds.values())


def test_falls_back_to_legacy_and_records_why(
    tiny_module: TinySeq2Seq, dims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("dynamo cannot trace this")

    monkeypatch.setattr(onnx_export, "_export_dynamo", broken)
    builds = build_graphs(tiny_module, tmp_path, T, dims)
    for build in builds.values():
        assert build.exporter == "legacy"
        assert "dynamo cannot trace this" in build.failed_attempts["dynamo"]


def test_trap_1_pinned_time_dim_is_caught(
    tiny_corpus: TinyCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without clearing the LSTM dispatch cache, a second dynamo export of an
    embedding->LSTM encoder can pin S to the example (FACTS.md). The signature
    check must turn that into an error instead of a graph that rejects other lengths."""
    first = TinySeq2Seq(tiny_corpus.source_vocab, tiny_corpus.target_vocab, seed=1).eval()
    second = TinySeq2Seq(tiny_corpus.source_vocab, tiny_corpus.target_vocab, hidden=10).eval()
    onnx_export.export_encoder(
        first, tmp_path / "a.onnx", T, probe_dims(first, tiny_corpus.source_vocab), "dynamo"
    )
    monkeypatch.setattr(onnx_export, "_clear_lstm_dispatch_cache", lambda: None)
    try:
        onnx_export.export_encoder(
            second, tmp_path / "b.onnx", T, probe_dims(second, tiny_corpus.source_vocab), "dynamo"
        )
    except GraphSignatureError as exc:
        assert "must be dynamic" in str(exc)
    else:
        pytest.skip("this torch build no longer pins the time dimension")
