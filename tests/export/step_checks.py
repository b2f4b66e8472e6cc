"""What every decoder-step form must give for one batch: the module's own step's outputs
(ids exactly, the rest within 1e-5), attention summing to 1 and zero on padding; and
the small module, export and batch the step-form tests share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from seqserve.export.inputs import ModelDims, decoder_batch, probe_dims
from seqserve.export.onnx_export import export_decoder
from seqserve.export.parity import TOLERANCE, decoder_parity
from seqserve.export.signature import decoder_signature
from seqserve.models.seq2seq import Seq2Seq
from seqserve.server.repository.config import Seq2SeqTensors

SOURCE_VOCAB, TARGET_VOCAB = 30, 40


def small_seq2seq(layers: int, seed: int) -> Seq2Seq:
    torch.manual_seed(seed)
    module = Seq2Seq(SOURCE_VOCAB, TARGET_VOCAB, emb_dim=8, hidden=12, enc_hidden=10,
                     dec_layers=layers, dropout=0.0)
    with torch.no_grad():  # sharper logits: TopK ids are then not near-ties
        module.output.weight.mul_(4.0)
    return module.eval()


def exported_decoder(module: Seq2Seq, tensors: Seq2SeqTensors,
                     directory: Path) -> tuple[ModelDims, Path]:
    """The module's decoder exported (dynamo) in the step form the environment selects."""
    dims = probe_dims(module, SOURCE_VOCAB)
    path = directory / "decoder.onnx"
    export_decoder(module, path, tensors, dims, "dynamo")
    return dims, path


def assert_decoder_parity(module: Seq2Seq, path: Path, tensors: Seq2SeqTensors,
                          dims: ModelDims) -> None:
    """The export's own parity check passes at its unchanged tolerance."""
    report = decoder_parity(module, path, tensors, dims)
    assert report.tolerance == TOLERANCE
    assert report.ok, report.summary()
    assert report.topk_ids_compared > 0


def uneven_rows_batch(tensors: Seq2SeqTensors, dims: ModelDims) -> dict[str, np.ndarray]:
    """7 rows of 3 requests in mixed order, k = the whole vocabulary."""
    batch = decoder_batch(tensors, np.random.default_rng(5), dims, rows=7, requests=3,
                          src_len=4, k=TARGET_VOCAB)
    batch[tensors.memory_index] = np.array([2, 2, 0, 1, 1, 1, 0])
    return batch


def assert_same_step(tensors: Seq2SeqTensors, batch: dict[str, np.ndarray],
                     want: Sequence[torch.Tensor], got: Sequence[torch.Tensor]) -> None:
    for name, w, g in zip(decoder_signature(tensors).output_names, want, got, strict=True):
        if name == tensors.topk_ids:
            assert torch.equal(w, g)
        else:
            torch.testing.assert_close(g, w, atol=1e-5, rtol=0)
    attention = got[4].numpy()
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-6)
    masks = batch[tensors.memory_mask][batch[tensors.memory_index]]
    assert np.all(attention[~masks] < 1e-6)


def assert_rows_match_decode_step(module: torch.nn.Module, tensors: Seq2SeqTensors,
                                  batch: dict[str, np.ndarray],
                                  got: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Each row of a graph's outputs `got` (by tensor name; k = the whole vocabulary)
    equals the module's decode_step run on that row's request alone. Returns each
    row's reference log probs (vocabulary order)."""
    references = []
    for row, request in enumerate(batch[tensors.memory_index]):
        logits, h, c, attention = module.decode_step(  # type: ignore[operator]
            torch.from_numpy(batch[tensors.prev_tokens][row : row + 1]),
            torch.from_numpy(batch[tensors.h][:, row : row + 1]),
            torch.from_numpy(batch[tensors.c][:, row : row + 1]),
            torch.from_numpy(batch[tensors.memory][request : request + 1]),
            torch.from_numpy(batch[tensors.memory_mask][request : request + 1]),
        )
        logp = torch.log_softmax(logits, -1)[0].numpy()
        references.append(logp)
        # k = V: the graph returns the whole distribution, sorted descending.
        np.testing.assert_allclose(got[tensors.topk_logprobs][row], np.sort(logp)[::-1],
                                   atol=1e-5)
        np.testing.assert_allclose(got[tensors.h_out][:, row], h[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(got[tensors.c_out][:, row], c[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(got[tensors.attention][row], attention[0].numpy(),
                                   atol=1e-5)
    return references
