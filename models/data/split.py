"""Deterministic train/valid/test splits that never share a source sentence."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from seqserve.models.data.pairs import Pair


@dataclass(frozen=True)
class Splits:
    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]


def split_pairs(pairs: list[Pair], test_size: int, valid_size: int, seed: int = 1234) -> Splits:
    """Hold out `test_size` and `valid_size` pairs, chosen by a seeded RNG.

    Pairs are grouped by source sentence before shuffling, so a source with two
    translations never has one in training and the other in the test set (that
    would overstate held-out scores). Groups are sorted first, so the split depends
    only on the set of pairs and the seed, not on the order a loader found them in.
    Sizes count pairs and are reached by whole groups (may overshoot slightly).
    """
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[pair[0]].append(pair)
    sources = sorted(groups)
    random.Random(seed).shuffle(sources)
    if test_size + valid_size >= len(pairs):
        raise ValueError(
            f"cannot hold out {test_size} test + {valid_size} valid pairs of {len(pairs)}"
        )
    test: list[Pair] = []
    valid: list[Pair] = []
    train: list[Pair] = []
    for source in sources:
        if len(test) < test_size:
            test.extend(groups[source])
        elif len(valid) < valid_size:
            valid.extend(groups[source])
        else:
            train.extend(groups[source])
    return Splits(train=train, valid=valid, test=test)
