"""The fused decoder step (export/fused_step.py) computes the generic step's function.

Checked against the PyTorch step the generic wrapper runs (DecoderStepGraph over
Seq2Seq.decode_step): in eager mode, and as an exported ONNX graph through the
export's own parity check at its unchanged tolerance; attention weights
included, padding masked, rows reading their own request's memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from seqserve.export.fused_step import FusedDecoderStepGraph, supports_fused_step
from seqserve.export.inputs import decoder_batch, probe_dims, to_torch
from seqserve.export.onnx_export import export_decoder
from seqserve.export.parity import TOLERANCE, cpu_session, decoder_parity
from seqserve.export.signature import decoder_signature
from seqserve.export.step_form import STEP_FORM_ENV
from seqserve.export.wrappers import DecoderStepGraph
from seqserve.models.seq2seq import Seq2Seq
from seqserve.server.repository.config import Seq2SeqTensors
from tests.export.step_checks import assert_rows_match_decode_step, assert_same_step
from tests.export.tiny_module import TinySeq2Seq

T = Seq2SeqTensors()
SOURCE_VOCAB, TARGET_VOCAB = 30, 40


@pytest.fixture(autouse=True)
def fused_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused form is opt-in (step_form.py)."""
    monkeypatch.setenv(STEP_FORM_ENV, "fused")


def small_seq2seq(layers: int) -> Seq2Seq:
    torch.manual_seed(layers)
    module = Seq2Seq(SOURCE_VOCAB, TARGET_VOCAB, emb_dim=8, hidden=12, enc_hidden=10,
                     dec_layers=layers, dropout=0.0)
    with torch.no_grad():  # sharper logits: TopK ids are then not near-ties
        module.output.weight.mul_(4.0)
    return module.eval()


def test_only_seq2seq_layout_is_fused() -> None:
    assert supports_fused_step(small_seq2seq(1))
    assert not supports_fused_step(TinySeq2Seq(SOURCE_VOCAB, TARGET_VOCAB))


@pytest.mark.parametrize("layers", [1, 2])
@torch.no_grad()
def test_eager_fused_step_equals_generic_step(layers: int) -> None:
    module = small_seq2seq(layers)
    dims = probe_dims(module, SOURCE_VOCAB)
    batch = decoder_batch(T, np.random.default_rng(3), dims, rows=9, requests=3, src_len=6,
                          k=TARGET_VOCAB)
    batch[T.memory_index] = np.array([2, 0, 0, 1, 2, 2, 1, 0, 1])  # any order
    args = to_torch(batch, decoder_signature(T).input_names)
    want = DecoderStepGraph(module)(*args)
    assert_same_step(T, batch, want, FusedDecoderStepGraph(module)(*args))


@pytest.mark.parametrize("layers", [1, 2])
def test_exported_fused_graph_passes_parity_without_an_lstm_node(
    layers: int, tmp_path: Path
) -> None:
    module = small_seq2seq(layers)
    dims = probe_dims(module, SOURCE_VOCAB)
    path = tmp_path / "decoder.onnx"
    export_decoder(module, path, T, dims, "dynamo")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "LSTM" not in ops and "MatMul" in ops
    # Parity is against DecoderStepGraph (the module's own decode_step), unchanged tolerance.
    report = decoder_parity(module, path, T, dims)
    assert report.tolerance == TOLERANCE
    assert report.ok, report.summary()
    assert report.topk_ids_compared > 0


@torch.no_grad()
def test_exported_attention_matches_per_request_decode_step(tmp_path: Path) -> None:
    module = small_seq2seq(1)
    dims = probe_dims(module, SOURCE_VOCAB)
    path = tmp_path / "decoder.onnx"
    export_decoder(module, path, T, dims, "dynamo")
    batch = decoder_batch(T, np.random.default_rng(5), dims, rows=7, requests=3, src_len=4,
                          k=TARGET_VOCAB)
    batch[T.memory_index] = np.array([2, 2, 0, 1, 1, 1, 0])
    names = decoder_signature(T).output_names
    got = dict(zip(names, cpu_session(path).run(names, batch), strict=True))
    assert_rows_match_decode_step(module, T, batch, got)


def test_generic_form_is_still_exported_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STEP_FORM_ENV, "generic")
    module = small_seq2seq(1)
    dims = probe_dims(module, SOURCE_VOCAB)
    path = tmp_path / "decoder.onnx"
    export_decoder(module, path, T, dims, "dynamo")
    graph = onnx.load(str(path)).graph
    assert "LSTM" in {node.op_type for node in graph.node}
    assert [n for n in graph.node if n.op_type == "Gather" and T.memory in n.input]
    assert decoder_parity(module, path, T, dims).ok
