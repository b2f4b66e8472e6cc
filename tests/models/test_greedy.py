"""Greedy decoding: stops at EOS, respects max_len, order of rows is kept."""

from __future__ import annotations

import torch

from seqserve.models.greedy import greedy_decode
from seqserve.models.seq2seq import EOS_ID, Seq2Seq


def test_greedy_matches_row_alone_and_is_bounded() -> None:
    torch.manual_seed(0)
    model = Seq2Seq(src_vocab=20, tgt_vocab=15, emb_dim=8, hidden=8, enc_hidden=8).eval()
    src = torch.tensor([[5, 6, 7, EOS_ID], [8, EOS_ID, 0, 0]])
    lengths = torch.tensor([4, 2])
    out = greedy_decode(model, src, lengths, max_len=6)
    assert len(out) == 2 and all(len(row) <= 6 and EOS_ID not in row for row in out)
    assert greedy_decode(model, src[1:, :2], lengths[1:], max_len=6) == out[1:]
    assert not model.training
