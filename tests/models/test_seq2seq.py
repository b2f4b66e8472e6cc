"""Seq2Seq: teacher-forced forward == repeated decode_step; encode ignores padding."""

from __future__ import annotations

import torch

from seqserve.models.attention import source_mask
from seqserve.models.seq2seq import BOS_ID, PAD_ID, Seq2Seq

TOL = 1e-5


def _model(dec_layers: int = 2, enc_layers: int = 1) -> Seq2Seq:
    torch.manual_seed(0)
    model = Seq2Seq(
        src_vocab=23,
        tgt_vocab=19,
        emb_dim=8,
        hidden=12,
        enc_hidden=10,
        enc_layers=enc_layers,
        dec_layers=dec_layers,
        dropout=0.3,
    )
    return model.eval()


def _padded_batch(lengths: list[int], vocab: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.full((len(lengths), max(lengths)), PAD_ID, dtype=torch.long)
    for row, n in enumerate(lengths):
        tokens[row, :n] = torch.randint(4, vocab, (n,), generator=gen)
    return tokens, torch.tensor(lengths)


def test_forward_matches_repeated_decode_step() -> None:
    for dec_layers, enc_layers in [(1, 1), (2, 2)]:
        model = _model(dec_layers, enc_layers)
        src, src_len = _padded_batch([5, 1, 3, 7], 23, seed=1)
        tgt, _ = _padded_batch([6, 6, 6, 6], 19, seed=2)
        tgt[:, 0] = BOS_ID
        with torch.no_grad():
            teacher = model(src, src_len, tgt)
            memory, h, c = model.encode(src, src_len)
            mask = source_mask(src_len, src.shape[1])
            for t in range(tgt.shape[1]):
                logits, h, c, attn = model.decode_step(tgt[:, t], h, c, memory, mask)
                torch.testing.assert_close(logits, teacher[:, t], atol=TOL, rtol=0)
                assert torch.all(attn[~mask] < 1e-6)
                torch.testing.assert_close(attn.sum(-1), torch.ones(4), atol=TOL, rtol=0)


def test_encode_is_padding_invariant() -> None:
    for enc_layers in (1, 2):
        model = _model(dec_layers=2, enc_layers=enc_layers)
        lengths = [4, 9, 1, 6]
        src, src_len = _padded_batch(lengths, 23, seed=3)
        # Garbage (non-pad) tokens in the padding must not matter either.
        src_garbage = src.clone()
        src_garbage[src == PAD_ID] = 5
        with torch.no_grad():
            for batch in (src, src_garbage):
                memory, h, c = model.encode(batch, src_len)
                for row, n in enumerate(lengths):
                    alone_m, alone_h, alone_c = model.encode(
                        src[row : row + 1, :n], src_len[row : row + 1]
                    )
                    torch.testing.assert_close(memory[row, :n], alone_m[0], atol=TOL, rtol=0)
                    torch.testing.assert_close(h[:, row], alone_h[:, 0], atol=TOL, rtol=0)
                    torch.testing.assert_close(c[:, row], alone_c[:, 0], atol=TOL, rtol=0)


def test_shapes_and_config_round_trip() -> None:
    model = _model()
    src, src_len = _padded_batch([3, 2], 23, seed=4)
    memory, h, c = model.encode(src, src_len)
    assert memory.shape == (2, 3, 20)
    assert h.shape == c.shape == (2, 2, 12)
    rebuilt = Seq2Seq.from_config(model.config_dict())
    rebuilt.load_state_dict(model.state_dict())
    assert rebuilt.config == model.config


def test_dropout_only_in_training() -> None:
    model = _model()
    src, src_len = _padded_batch([3, 2], 23, seed=5)
    tgt = torch.tensor([[BOS_ID, 5], [BOS_ID, 6]])
    with torch.no_grad():
        assert torch.equal(model(src, src_len, tgt), model(src, src_len, tgt))
        model.train()
        assert not torch.equal(model(src, src_len, tgt), model(src, src_len, tgt))


def test_forward_positions_selects_rows_of_full_logits() -> None:
    model = _model()
    src, src_len = _padded_batch([3, 5], 23, seed=6)
    tgt, _ = _padded_batch([4, 2], 19, seed=7)
    real = tgt != PAD_ID
    with torch.no_grad():
        full = model(src, src_len, tgt)
        torch.testing.assert_close(model(src, src_len, tgt, positions=real), full[real])
