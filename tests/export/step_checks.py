"""What every decoder-step form must give for one batch: the module's own step's outputs
(ids exactly, the rest within 1e-5), attention summing to 1 and zero on padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from seqserve.export.signature import decoder_signature
from seqserve.server.repository.config import Seq2SeqTensors


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
