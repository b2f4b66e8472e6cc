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
from seqserve.export.parity import cpu_session, decoder_parity
from seqserve.export.signature import decoder_signature
from seqserve.export.step_form import STEP_FORM_ENV
from seqserve.export.wrappers import DecoderStepGraph
from seqserve.models.seq2seq import Seq2Seq
from seqserve.server.repository.config import Seq2SeqTensors
from tests.export.step_checks import (
    SOURCE_VOCAB,
    TARGET_VOCAB,
    assert_decoder_parity,
    assert_rows_match_decode_step,
    assert_same_step,
    exported_decoder,
    uneven_rows_batch,
)
from tests.export.step_checks import small_seq2seq as shared_small_seq2seq
from tests.export.tiny_module import TinySeq2Seq

T = Seq2SeqTensors()


@pytest.fixture(autouse=True)
def fused_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused form is opt-in (step_form.py)."""
    monkeypatch.setenv(STEP_FORM_ENV, "fused")


def small_seq2seq(layers: int) -> Seq2Seq:
    return shared_small_seq2seq(layers, seed=layers)


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
    dims, path = exported_decoder(module, T, tmp_path)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "LSTM" not in ops and "MatMul" in ops
    # Parity is against DecoderStepGraph (the module's own decode_step), unchanged tolerance.
    assert_decoder_parity(module, path, T, dims)


@torch.no_grad()
def test_exported_attention_matches_per_request_decode_step(tmp_path: Path) -> None:
    module = small_seq2seq(1)
    dims, path = exported_decoder(module, T, tmp_path)
    batch = uneven_rows_batch(T, dims)
    names = decoder_signature(T).output_names
    got = dict(zip(names, cpu_session(path).run(names, batch), strict=True))
    assert_rows_match_decode_step(module, T, batch, got)


def test_generic_form_is_still_exported_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STEP_FORM_ENV, "generic")
    module = small_seq2seq(1)
    dims, path = exported_decoder(module, T, tmp_path)
    graph = onnx.load(str(path)).graph
    assert "LSTM" in {node.op_type for node in graph.node}
    assert [n for n in graph.node if n.op_type == "Gather" and T.memory in n.input]
    assert decoder_parity(module, path, T, dims).ok
