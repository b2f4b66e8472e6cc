"""Padding, decoder input/target shift and length bucketing of training batches."""

from __future__ import annotations

from seqserve.models.batching import bucketed_batches, collate
from seqserve.models.seq2seq import BOS_ID, EOS_ID, PAD_ID


def test_collate_pads_and_shifts() -> None:
    batch = collate([([5, 6, EOS_ID], [7, 8, 9]), ([5, EOS_ID], [7])])
    assert batch.src.tolist() == [[5, 6, EOS_ID], [5, EOS_ID, PAD_ID]]
    assert batch.src_lengths.tolist() == [3, 2]
    assert batch.tgt_in.tolist() == [[BOS_ID, 7, 8, 9], [BOS_ID, 7, PAD_ID, PAD_ID]]
    assert batch.tgt_out.tolist() == [[7, 8, 9, EOS_ID], [7, EOS_ID, PAD_ID, PAD_ID]]


def test_buckets_cover_every_example_once_and_are_seeded() -> None:
    examples = [([4] * (1 + i % 17), [4] * (1 + i % 5)) for i in range(100)]
    batches = bucketed_batches(examples, batch_size=8, seed=3)
    assert sorted(i for b in batches for i in b) == list(range(100))
    assert batches == bucketed_batches(examples, batch_size=8, seed=3)
    assert batches != bucketed_batches(examples, batch_size=8, seed=4)
    # Length bucketing: within a batch the source lengths differ by little.
    spreads = [
        max(len(examples[i][0]) for i in b) - min(len(examples[i][0]) for i in b) for b in batches
    ]
    assert max(spreads) <= 2
