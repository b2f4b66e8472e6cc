"""Batched greedy decoding in PyTorch (evaluation and tests; the server runs beam search)."""

from __future__ import annotations

import torch

from seqserve.models.attention import source_mask
from seqserve.models.seq2seq import BOS_ID, EOS_ID, Seq2Seq


@torch.no_grad()
def greedy_decode(
    model: Seq2Seq,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    max_len: int | None = None,
) -> list[list[int]]:
    """Target ids per row (EOS and anything after it removed).

    max_len defaults to 2 * longest source + 10: enough for any sane translation,
    and it bounds a model that never emits EOS.
    """
    was_training = model.training
    model.eval()
    limit = max_len if max_len is not None else 2 * int(src_lengths.max()) + 10
    memory, h, c = model.encode(src, src_lengths)
    mask = source_mask(src_lengths, src.shape[1])
    prev = torch.full((src.shape[0],), BOS_ID, dtype=torch.long)
    steps: list[torch.Tensor] = []
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for _ in range(limit):
        logits, h, c, _ = model.decode_step(prev, h, c, memory, mask)
        prev = logits.argmax(-1)
        steps.append(prev)
        done |= prev == EOS_ID
        if bool(done.all()):
            break
    model.train(was_training)
    out: list[list[int]] = []
    for row in torch.stack(steps, dim=1).tolist():
        out.append(row[: row.index(EOS_ID)] if EOS_ID in row else row)
    return out
