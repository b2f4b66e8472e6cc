"""The padded-cost batch choice of the dynamic batcher (pure function)."""

from __future__ import annotations

import random

from seqserve.server.engine.batch_packing import choose_window, padded_cost


def _score(lengths: list[int], start: int, end: int, overhead: float) -> float:
    return sum(lengths[start:end]) / padded_cost(end - start, lengths[end - 1], overhead)


def test_a_long_item_is_left_out_of_a_batch_of_short_ones():
    lengths = [5] * 20 + [60]
    assert choose_window(lengths, 0, 64, overhead=24) == (0, 20)
    # ... and runs alone when it is the oldest: short rows would each pay 60 steps.
    assert choose_window(lengths, 20, 64, overhead=24) == (20, 21)


def test_equal_lengths_fill_the_batch_up_to_max_rows():
    start, end = choose_window([7] * 100, 50, 64, overhead=24)
    assert end - start == 64 and start <= 50 < end


def test_the_anchor_is_always_in_the_window_and_beats_running_alone():
    rng = random.Random(0)
    for _ in range(200):
        lengths = sorted(rng.randint(1, 60) for _ in range(rng.randint(1, 40)))
        anchor = rng.randrange(len(lengths))
        max_rows = rng.randint(1, 16)
        start, end = choose_window(lengths, anchor, max_rows, overhead=24)
        assert start <= anchor < end and end - start <= max_rows
        assert _score(lengths, start, end, 24) >= _score(lengths, anchor, anchor + 1, 24)


def test_a_larger_overhead_makes_larger_batches_worth_their_padding():
    lengths = [4, 6, 8, 10, 12, 14, 16, 18, 20]
    small = choose_window(lengths, 0, 64, overhead=0)
    large = choose_window(lengths, 0, 64, overhead=200)
    assert small[1] - small[0] < large[1] - large[0] == len(lengths)
