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


def _join_rows(batch: DecodeBatch, beams: list[int], options: list[ResolvedOptions],
               first_value: int) -> list[LiveSentence]:
    """Sentences of these beams whose every state row holds its own value (row r of
    the batch after the join holds first_value + r), so a row's state says where
    it came from."""
    sentences = []
    for beam, opts in zip(beams, options, strict=True):
        job = DecodeJob([[4]], opts, lambda event: None)
        sentences.append(LiveSentence(job=job, index=0, beam=beam, source_length=2))
    memories = [np.zeros((2, DIM), np.float32) for _ in beams]
    init = np.zeros((1, len(beams), HIDDEN), np.float32)
    batch.add(sentences, memories, init, init)
    batch.h[:] = (first_value + np.arange(batch.rows))[None, :, None]
    return sentences


def test_a_reorder_drops_leaving_sentences_in_the_same_gather() -> None:
    batch = DecodeBatch(bos_id=1, memory_dim=DIM, layers=1, hidden=HIDDEN)
    first, middle, last = _join_rows(batch, [2, 3, 2], [OPTIONS] * 3, first_value=0)
    for sentence in (first, middle, last):
        sentence.advance(np.zeros(sentence.beam, np.int64), np.zeros(sentence.beam, np.int64))
    # Row r continues row parents[r]; the middle sentence (rows 2-4) stops this step.
    parents = np.array([1, 0, 4, 2, 3, 6, 5])
    tokens = np.arange(10, 17)
    scores = np.arange(7, dtype=np.float64)
    h_out = batch.h + 100.0  # what the step returned for each row
    batch.reorder(parents, tokens, scores, h_out, h_out.copy(), leaving={1})
    assert batch.sentences == [first, last]
    assert batch.h[0, :, 0].tolist() == [101, 100, 106, 105]
    assert batch.prev_tokens.tolist() == [10, 11, 15, 16]
    assert batch.cumulative.tolist() == [0, 1, 5, 6]
    assert batch.offsets.tolist() == [0, 2] and batch.rows == 4
    assert batch.steps.tolist() == [1, 1] == [first.step, last.step]


def test_per_sentence_arrays_and_selection_groups_follow_joins_and_leaves() -> None:
    batch = DecodeBatch(bos_id=1, memory_dim=DIM, layers=1, hidden=HIDDEN)
    penalised = ResolvedOptions(2, 1, 1.0, 5, 3, True, repetition_penalty=1.2)
    beam3 = ResolvedOptions(3, 1, 1.0, 5, 1, True)
    _join_rows(batch, [2, 3, 2, 2, 3], [OPTIONS, beam3, penalised, OPTIONS, beam3],
               first_value=0)
    assert batch.beams.tolist() == [2, 3, 2, 2, 3]
    assert batch.min_lengths.tolist() == [0, 1, 3, 0, 1]
    assert batch.rule_positions.tolist() == [2]  # the penalty needs the whole distribution
    groups = {g.beam: (g.positions.tolist(), g.rows.tolist()) for g in batch.beam_groups}
    assert groups == {2: ([0, 3], [[0, 1], [7, 8]]), 3: ([1, 4], [[2, 3, 4], [9, 10, 11]])}
    batch.remove({0, 1})
    assert batch.beams.tolist() == [2, 2, 3] and batch.min_lengths.tolist() == [3, 0, 1]
    groups = {g.beam: (g.positions.tolist(), g.rows.tolist()) for g in batch.beam_groups}
    assert groups == {2: ([1], [[2, 3]]), 3: ([2], [[4, 5, 6]])}
    assert batch.rule_positions.tolist() == [0]
    assert batch.h[0, :, 0].tolist() == [5, 6, 7, 8, 9, 10, 11]


def test_memory_resizes_alternate_between_two_storages() -> None:
    batch = DecodeBatch(bos_id=1, memory_dim=DIM, layers=1, hidden=HIDDEN)
    _join(batch, [3, 5], first_value=100)
    _join(batch, [7], first_value=200)  # wider: a resize into a new storage
    _join(batch, [9], first_value=300)  # wider again: into the other one
    storages = [batch._storage[0], batch._spare_storage[0]]
    for width in (4, 6, 3, 8):  # widest leaves and comes back: resizes each time
        batch.remove({len(batch) - 1})
        _join(batch, [width], first_value=400 + width)
        assert any(np.shares_memory(batch.memory, s) for s in storages)
    assert _owner_of_each_row(batch) == [v for v in (100, 101, 200, 408) for _ in range(2)]
    assert [int(batch.memory_mask[slot].sum()) for slot in batch.slots] == [3, 5, 7, 8]
    assert not batch.memory[batch.slots[0], 3:].any()  # padding stays zero after copies
