"""DecodeBatch's memory slots: a leaving sentence frees its slot and a joining one
takes a freed or spare slot, neither copying the others' memory; rows always point
at their own sentence's memory; compaction comes only when it shrinks the memory
by over a quarter."""

from __future__ import annotations

import numpy as np

from seqserve.server.engine.decode_batch import DecodeBatch
from seqserve.server.engine.job import DecodeJob
from seqserve.server.engine.live_sentence import LiveSentence
from seqserve.server.engine.options import ResolvedOptions

DIM, HIDDEN = 3, 2
OPTIONS = ResolvedOptions(2, 1, 1.0, 5, 0, True)


def _join(batch: DecodeBatch, lengths: list[int], first_value: int) -> list[LiveSentence]:
    job = DecodeJob([[4]] * len(lengths), OPTIONS, lambda event: None)
    sentences = [LiveSentence(job=job, index=i, beam=2, source_length=n)
                 for i, n in enumerate(lengths)]
    # Each sentence's memory is filled with its own id, so a row's memory says whose it is.
    memories = [np.full((n, DIM), first_value + i, np.float32) for i, n in enumerate(lengths)]
    init = np.zeros((1, len(lengths), HIDDEN), np.float32)
    batch.add(sentences, memories, init, init)
    return sentences


def _owner_of_each_row(batch: DecodeBatch) -> list[float]:
    return [float(batch.memory[slot, 0, 0]) for slot in batch.memory_index]


def test_rows_keep_their_own_memory_as_sentences_leave_and_join() -> None:
    batch = DecodeBatch(bos_id=1, memory_dim=DIM, layers=1, hidden=HIDDEN)
    _join(batch, [3, 5, 2, 4, 6, 3, 2, 4, 5, 3], first_value=100)  # ids 100..109
    batch.remove({1, 2})  # 101 and 102 leave: their slots are freed, nothing is copied
    assert batch.memory.shape[0] == 10
    assert _owner_of_each_row(batch) == [v for v in (100, 103, 104, 105, 106, 107, 108, 109)
                                         for _ in range(2)]
    _join(batch, [4], first_value=200)  # takes a freed slot
    _join(batch, [2], first_value=300)  # takes the other
    assert batch.memory.shape[0] == 10
    _join(batch, [3], first_value=400)  # none left: a fresh slot
    assert batch.memory.shape[0] == 11
    assert _owner_of_each_row(batch)[-6:] == [200, 200, 300, 300, 400, 400]
    # 104 and 108, the widest sources, leave: compacting now shrinks the memory by
    # over a quarter (width 6 -> 4), so it is compacted.
    batch.remove({2, 6})
    assert batch.memory.shape[:2] == (len(batch), 4) == (9, 4)
    assert _owner_of_each_row(batch) == [v for v in (100, 103, 105, 106, 107, 109, 200, 300, 400)
                                         for _ in range(2)]
    assert [int(batch.memory_mask[slot].sum()) for slot in batch.slots] == [3, 4, 3, 2, 4, 3,
                                                                             4, 2, 3]


def test_a_join_writes_into_spare_slots_without_copying_the_memory_there() -> None:
    batch = DecodeBatch(bos_id=1, memory_dim=DIM, layers=1, hidden=HIDDEN)
    _join(batch, [3, 5, 2], first_value=100)
    before = batch.memory
    _join(batch, [4], first_value=200)  # fits in width and capacity: written in place
    assert np.shares_memory(before, batch.memory)
    batch.remove({2})  # 102 (length 2) leaves; not worth compacting
    _join(batch, [1], first_value=300)  # reuses 102's slot, in place
    assert np.shares_memory(before, batch.memory) and batch.memory.shape[0] == 4
    assert _owner_of_each_row(batch) == [v for v in (100, 101, 200, 300) for _ in range(2)]
    # A joining sentence's padding is zero and masked, whatever its slot held before.
    assert not batch.memory_mask[batch.slots[-1], 1:].any()
    assert not batch.memory[batch.slots[-1], 1:].any()
    _join(batch, [9], first_value=400)  # longer than every source so far: width grows
    assert batch.memory.shape[1] == 9
    assert _owner_of_each_row(batch)[-2:] == [400, 400]
    assert [int(batch.memory_mask[slot].sum()) for slot in batch.slots] == [3, 5, 4, 1, 9]
