"""The per-request attention step over keyed memory (export/request_attention_step.py)
computes the generic step's function without copying memory per row.

Checked against the PyTorch step the generic wrapper runs (DecoderStepGraph over
Seq2Seq.decode_step): in eager mode with rows in any order, and as an exported
ONNX graph through the export's own parity check at its unchanged tolerance,
attention weights included, padding masked, every row reading its own request.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from seqserve.export.inputs import decoder_batch, encoder_batch, probe_dims, to_torch
from seqserve.export.onnx_export import export_decoder, export_encoder
from seqserve.export.parity import cpu_session, decoder_parity, encoder_parity
from seqserve.export.request_attention_step import RequestAttentionStepGraph, with_keys
from seqserve.export.signature import decoder_signature
from seqserve.export.step_form import STEP_FORM_ENV, step_form
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
def request_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STEP_FORM_ENV, "request")


def small_seq2seq(layers: int) -> Seq2Seq:
    return shared_small_seq2seq(layers, seed=10 + layers)


def test_padded_layout_gives_each_row_its_own_slot() -> None:
    index = torch.tensor([2, 0, 0, 1, 2, 2, 1, 0, 0])
    slot, width = RequestAttentionStepGraph.padded_layout(index, requests=4)
    assert width == 4  # request 0 has the most rows
    assert slot.tolist() == [8, 0, 1, 4, 9, 10, 5, 2, 3]


@pytest.mark.parametrize("layers", [1, 2])
@torch.no_grad()
def test_eager_step_equals_generic_step_in_any_row_order(layers: int) -> None:
    module = small_seq2seq(layers)
    dims = probe_dims(module, SOURCE_VOCAB)
    batch = decoder_batch(T, np.random.default_rng(3), dims, rows=9, requests=4, src_len=6,
                          k=TARGET_VOCAB)
    # Any order, uneven rows per request, and a request with no row at all.
    batch[T.memory_index] = np.array([2, 0, 0, 1, 2, 2, 1, 0, 0])
    args = to_torch(batch, decoder_signature(T).input_names)
    want = DecoderStepGraph(module)(*args)
    keyed = list(args)
    keyed[3] = with_keys(module.attention.proj, args[3])
    assert_same_step(T, batch, want, RequestAttentionStepGraph(module)(*keyed))


@pytest.mark.parametrize("layers", [1, 2])
def test_exported_graph_passes_parity_and_never_gathers_memory(
    layers: int, tmp_path: Path
) -> None:
    module = small_seq2seq(layers)
    dims, path = exported_decoder(module, T, tmp_path)
    graph = onnx.load(str(path)).graph
    assert "LSTM" in {node.op_type for node in graph.node}  # ORT's LSTM node is kept
    assert not [n for n in graph.node if n.op_type == "Gather" and T.memory in n.input]
    assert_decoder_parity(module, path, T, dims)


@torch.no_grad()
def test_exported_rows_match_per_request_decode_step(tmp_path: Path) -> None:
    module = small_seq2seq(1)
    dims, path = exported_decoder(module, T, tmp_path)
    batch = uneven_rows_batch(T, dims)
    names = decoder_signature(T).output_names
    served = {**batch, T.memory: with_keys(module.attention.proj,
                                           torch.from_numpy(batch[T.memory])).numpy()}
    got = dict(zip(names, cpu_session(path).run(names, served), strict=True))
    assert_rows_match_decode_step(module, T, batch, got)


@torch.no_grad()
def test_encoder_serves_memory_with_its_attention_keys(tmp_path: Path) -> None:
    module = small_seq2seq(1)
    dims = probe_dims(module, SOURCE_VOCAB)
    path = tmp_path / "encoder.onnx"
    # (The legacy exporter's Seq2Seq encoder fails its shape checks in any form.)
    export_encoder(module, path, T, dims, "dynamo")
    assert encoder_parity(module, path, T, dims).ok
    batch = encoder_batch(T, np.random.default_rng(2), 3, 5, SOURCE_VOCAB)
    served = cpu_session(path).run([T.memory], batch)[0]
    memory, _, _ = module.encode(*to_torch(batch, [T.src_tokens, T.src_lengths]))
    assert served.shape == (3, 5, dims.memory_dim + dims.hidden)
    np.testing.assert_allclose(served[..., : dims.memory_dim], memory.numpy(), atol=1e-5)
    keys = memory @ module.attention.proj.weight
    np.testing.assert_allclose(served[..., dims.memory_dim :], keys.numpy(), atol=1e-5)


def test_legacy_exporter_gives_the_gather_step_over_keyed_memory(tmp_path: Path) -> None:
    """The padded width is a data-dependent size only dynamo keeps symbolic."""
    module = small_seq2seq(1)
    dims = probe_dims(module, SOURCE_VOCAB)
    path = tmp_path / "decoder.onnx"
    export_decoder(module, path, T, dims, "legacy")
    graph = onnx.load(str(path)).graph
    assert "ScatterElements" not in {node.op_type for node in graph.node}
    assert decoder_parity(module, path, T, dims).ok


def test_request_form_is_the_default_for_seq2seq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STEP_FORM_ENV)
    assert step_form(small_seq2seq(1)) == "request"
    assert step_form(TinySeq2Seq(SOURCE_VOCAB, TARGET_VOCAB)) == "generic"
    monkeypatch.setenv(STEP_FORM_ENV, "fast")
    with pytest.raises(ValueError, match="SEQSERVE_EXPORT_STEP='fast'"):
        step_form(small_seq2seq(1))
