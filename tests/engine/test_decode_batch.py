"""DecodeBatch's memory slots: a leaving sentence frees its slot without copying the
others' memory; rows always point at their own sentence's memory; compaction comes
once dead slots are a quarter of the memory."""

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
    batch.remove({1, 4})  # 2 of 10 slots dead: no compaction yet, no copy
    assert batch.memory.shape[0] == 10
    assert _owner_of_each_row(batch) == [v for v in (100, 102, 103, 105, 106, 107, 108, 109)
                                         for _ in range(2)]
    _join(batch, [7], first_value=200)  # joins in a new slot
    assert batch.memory.shape[0] == 11 and _owner_of_each_row(batch)[-2:] == [200, 200]
    batch.remove({0, 2, 5})  # 100, 103, 107 leave: 5 dead of 11, compacted
    assert batch.memory.shape[0] == len(batch) == 6
    assert _owner_of_each_row(batch) == [v for v in (102, 105, 106, 108, 109, 200)
                                         for _ in range(2)]
    # The width shrank to the longest live source, and the mask matches each one.
    assert batch.memory.shape[1] == 7
    assert [int(batch.memory_mask[slot].sum()) for slot in batch.slots] == [2, 3, 2, 5, 3, 7]
