"""Held-out splits: seeded, order-independent, disjoint by source sentence."""

from __future__ import annotations

import random

import pytest

from seqserve.models.data import number_pairs, split_pairs


def _pairs() -> list[tuple[str, str]]:
    pairs = [(f"source {i}", f"cible {i}") for i in range(300)]
    # One source with two translations: both must land in the same split.
    return [*pairs, ("source 7", "autre cible 7")]


def test_deterministic_and_order_independent() -> None:
    pairs = _pairs()
    shuffled = pairs[:]
    random.Random(5).shuffle(shuffled)
    a = split_pairs(pairs, test_size=30, valid_size=10, seed=11)
    b = split_pairs(shuffled, test_size=30, valid_size=10, seed=11)
    assert set(a.test) == set(b.test) and set(a.valid) == set(b.valid)
    assert set(a.train) == set(b.train)
    c = split_pairs(pairs, test_size=30, valid_size=10, seed=12)
    assert set(a.test) != set(c.test)


def test_disjoint_and_complete() -> None:
    pairs = _pairs()
    s = split_pairs(pairs, test_size=30, valid_size=10, seed=3)
    sources = [{src for src, _ in part} for part in (s.train, s.valid, s.test)]
    assert not (sources[0] & sources[1]) and not (sources[0] & sources[2])
    assert not (sources[1] & sources[2])
    assert sorted(s.train + s.valid + s.test) == sorted(pairs)
    assert 30 <= len(s.test) <= 31 and 10 <= len(s.valid) <= 11


def test_too_large_held_out_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot hold out"):
        split_pairs(_pairs(), test_size=300, valid_size=10)


def test_number_task_holds_out_unseen_numbers() -> None:
    pairs = number_pairs(limit=500)
    assert pairs[21] == ("twenty-one", "vingt et un")
    s = split_pairs(pairs, test_size=50, valid_size=20, seed=1)
    assert not {src for src, _ in s.test} & {src for src, _ in s.train}
