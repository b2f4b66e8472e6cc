"""The rows of every live hypothesis, as batch arrays (TGI's filter/concatenate).

Sentence i owns rows [offset_i, offset_i + beam_i). Recurrent state is kept
per row; encoder memory is kept once per sentence, in a slot, and rows point at
their sentence's slot with `memory_index`, so beams never copy memory. Joining
and leaving rebuild the row arrays; a plain decode step only reorders state rows
by parent index. A leaving sentence only frees its memory slot: the memory is
compacted once dead slots are a quarter of it, not on every leave (at 32
requests in flight a sentence leaves almost every step, and copying all memory
each time was the largest cost of the step's bookkeeping).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqserve.server.engine.live_sentence import LiveSentence


class BeamGroup(NamedTuple):
    """The top-k sentences (no rules) of one beam size: selected together."""

    beam: int
    positions: np.ndarray
    """[S] their positions in the batch."""
    rows: np.ndarray
    """[S, beam] their rows."""


class DecodeBatch:
    def __init__(self, *, bos_id: int, memory_dim: int, layers: int, hidden: int) -> None:
        self.bos_id = bos_id
        self.sentences: list[LiveSentence] = []
        self.prev_tokens = np.zeros((0,), np.int64)
        self.h = np.zeros((layers, 0, hidden), np.float32)
        self.c = np.zeros((layers, 0, hidden), np.float32)
        self.cumulative = np.zeros((0,), np.float64)
        self._memory = np.zeros((0, 0, memory_dim), np.float32)
        self._memory_mask = np.zeros((0, 0), bool)
        """Slot buffers with room to spare: slots [0, used_slots) are in use (live or
        dead), the rest is capacity new sentences are written into in place."""
        empty = (np.zeros((0,), np.float32), np.zeros((0,), bool))
        self._storage = empty
        """The flat arrays `_memory` and `_memory_mask` are views of."""
        self._spare_storage = empty
        """The other pair: the next resize writes into it (see _other_buffers)."""
        self.used_slots = 0
        self._free_slots: list[int] = []
        """Slots below used_slots whose sentence left; the next joins reuse them."""
        self.memory_index = np.zeros((0,), np.int64)
        self.offsets = np.zeros((0,), np.int64)
        self.slots = np.zeros((0,), np.int64)
        """Per sentence, its memory slot (row of `memory`); slots of sentences that left
        stay until a join reuses them or a compaction: rows never point at them."""
        self.beams = np.zeros((0,), np.int64)
        self.steps = np.zeros((0,), np.int64)
        """Per sentence, its decode steps done (LiveSentence.step)."""
        self.min_lengths = np.zeros((0,), np.int64)
        self.source_lengths = np.zeros((0,), np.int64)
        self.plain = np.zeros((0,), bool)
        """Per sentence: selected from the graph's top-k (no decoding rules)."""
        self.rule_positions = np.zeros((0,), np.int64)
        self.beam_groups: list[BeamGroup] = []
        self._reindex()

    def __len__(self) -> int:
        return len(self.sentences)

    @property
    def rows(self) -> int:
        return int(self.prev_tokens.shape[0])

    _PER_SENTENCE = ("beams", "steps", "min_lengths", "source_lengths", "plain")
    """Per-sentence arrays kept beside `sentences`: the step's bookkeeping reads them
    instead of walking the sentences. A sentence joins or leaves almost every step at
    32 in flight, so they are extended and cut, never rebuilt."""

    def _extend_arrays(self, sentences: list[LiveSentence]) -> None:
        n = len(sentences)
        new = {
            "beams": np.fromiter((s.beam for s in sentences), np.int64, n),
            "steps": np.fromiter((s.step for s in sentences), np.int64, n),
            "min_lengths": np.fromiter((s.job.options.min_length for s in sentences),
                                       np.int64, n),
            "source_lengths": np.fromiter((s.source_length for s in sentences), np.int64, n),
            "plain": np.fromiter((not s.uses_rules for s in sentences), bool, n),
        }
        for name, values in new.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def _keep_arrays(self, keep: np.ndarray) -> None:
        for name in self._PER_SENTENCE:
            setattr(self, name, getattr(self, name)[keep])

    def _reindex(self) -> None:
        """Rows and selection groups from the per-sentence arrays (numpy only)."""
        beams, plain = self.beams, self.plain
        self.offsets = np.cumsum(beams) - beams
        self.memory_index = np.repeat(self.slots, beams)
        self.rule_positions = np.flatnonzero(~plain)
        if len(beams) and plain.all() and beams.min() == beams.max():
            # The usual batch: one beam size, no rules, so one group of every sentence.
            beam = int(beams[0])
            self.beam_groups = [BeamGroup(beam, np.arange(len(beams)),
                                          self.offsets[:, None] + np.arange(beam))]
            return
        self.beam_groups = []
        for beam in np.unique(beams[plain]).tolist():
            positions = np.flatnonzero(plain & (beams == beam))
            rows = self.offsets[positions][:, None] + np.arange(beam)[None, :]
            self.beam_groups.append(BeamGroup(beam, positions, rows))

    def add(
        self,
        sentences: list[LiveSentence],
        memories: list[np.ndarray],
        init_h: np.ndarray,
        init_c: np.ndarray,
    ) -> None:
        """Join sentences after their encoder pass.

        memories: per sentence [length, M] (real positions only).
        init_h/init_c: [L, n, H] in the order of `sentences`.
        """
        if not sentences:
            return
        beams = np.array([s.beam for s in sentences], np.int64)
        slots = self._take_slots([m.shape[0] for m in memories])
        for slot, m in zip(slots, memories, strict=True):
            self._memory[slot, : m.shape[0]] = m
            self._memory[slot, m.shape[0]:] = 0.0
            self._memory_mask[slot, : m.shape[0]] = True
            self._memory_mask[slot, m.shape[0]:] = False
        self.slots = np.concatenate([self.slots, np.array(slots, np.int64)])

        # Every sentence gets beam rows at once; only row 0 is live at step 0
        # (the others start at -inf and can never be chosen).
        first = np.zeros(int(beams.sum()), np.float64)
        starts = np.concatenate([[0], np.cumsum(beams)[:-1]])
        first[:] = -np.inf
        for start, sentence in zip(starts, sentences, strict=True):
            first[start : start + sentence.initial_alive] = 0.0
        self.cumulative = np.concatenate([self.cumulative, first])
        self.prev_tokens = np.concatenate(
            [self.prev_tokens, np.full(int(beams.sum()), self.bos_id, np.int64)]
        )
        self.h = np.concatenate([self.h, np.repeat(init_h, beams, axis=1)], axis=1)
        self.c = np.concatenate([self.c, np.repeat(init_c, beams, axis=1)], axis=1)
        self.sentences.extend(sentences)
        self._extend_arrays(sentences)
        self._reindex()

    @property
    def memory(self) -> np.ndarray:
        """[slots, width, M] (a contiguous prefix of the buffer: no copy)."""
        return self._memory[: self.used_slots]

    @property
    def memory_mask(self) -> np.ndarray:
        return self._memory_mask[: self.used_slots]

    def _take_slots(self, lengths: list[int]) -> list[int]:
        """A slot per joining source: a freed one first, else spare capacity. Joining
        writes in place, so the memory already there is not copied: at 32 requests
        in flight a sentence joins almost every step, and copying all memory on each
        join was a tenth of the engine's time. The buffer is reallocated (doubling)
        only when full or when a source is longer than the current width; the width
        is kept exact, since attention pays for every padded position."""
        capacity, width = self._memory.shape[:2]
        fresh = max(0, len(lengths) - len(self._free_slots))
        needed = self.used_slots + fresh
        if needed > capacity or max(lengths) > width:
            capacity = max(capacity if needed <= capacity else 2 * capacity, needed, 8)
            self._resize(capacity, max(width, *lengths), None)
        slots = [self._free_slots.pop() for _ in range(len(lengths) - fresh)]
        slots.extend(range(self.used_slots, needed))
        self.used_slots = needed
        return slots

    def _resize(self, capacity: int, width: int, keep: np.ndarray | None) -> None:
        """New buffers of this size; `keep` (slots, in order) or every used slot is
        copied to the front, each cut or padded to `width`. Only what is copied and
        its padding is written: a joining sentence writes its whole slot, so the
        spare capacity is left unset."""
        count = self.used_slots if keep is None else len(keep)
        picked = slice(0, count) if keep is None else keep
        copied = min(width, self._memory.shape[1])
        memory, mask = self._other_buffers(capacity, width)
        memory[:count, :copied] = self._memory[picked, :copied]
        mask[:count, :copied] = self._memory_mask[picked, :copied]
        memory[:count, copied:] = 0.0
        mask[:count, copied:] = False
        self._memory, self._memory_mask = memory, mask
        self.used_slots = count

    def _other_buffers(self, capacity: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """[capacity, width, M] memory and [capacity, width] mask, contiguous, in the
        storage not in use now: the two storages alternate, so a resize (the width
        changes as long sources come and go, several times a second at 32 in flight)
        copies into memory already mapped instead of a fresh allocation, whose page
        faults cost as much as the copy. The storage in use becomes the spare."""
        dim = self._memory.shape[2]
        memory_storage, mask_storage = self._spare_storage
        cells = capacity * width
        if mask_storage.size < cells:
            room = cells + cells // 2  # headroom: a slightly longer source fits as is
            memory_storage = np.empty(room * dim, np.float32)
            mask_storage = np.empty(room, bool)
        self._spare_storage = self._storage
        self._storage = (memory_storage, mask_storage)
        return (memory_storage[: cells * dim].reshape(capacity, width, dim),
                mask_storage[:cells].reshape(capacity, width))

    def remove(self, leaving: set[int]) -> None:
        """Drop the sentences at these positions (finished, cancelled, expired)."""
        if not leaving:
            return
        keep_rows = self._rows_kept(leaving)
        self.prev_tokens = self.prev_tokens[keep_rows]
        self.cumulative = self.cumulative[keep_rows]
        self.h = self.h[:, keep_rows]
        self.c = self.c[:, keep_rows]
        self._drop_sentences(leaving)

    def _rows_kept(self, leaving: set[int]) -> np.ndarray:
        staying = np.ones(len(self.sentences), bool)
        staying[list(leaving)] = False
        return np.flatnonzero(np.repeat(staying, self.beams))

    def _drop_sentences(self, leaving: set[int]) -> None:
        """(rows already dropped) Forget the sentences and free their memory slots."""
        keep_sentences = [i for i in range(len(self.sentences)) if i not in leaving]
        self._free_slots.extend(int(self.slots[i]) for i in leaving)
        self.sentences = [self.sentences[i] for i in keep_sentences]
        self.slots = self.slots[keep_sentences]
        self._keep_arrays(np.array(keep_sentences, np.int64))
        if self._worth_compacting():
            self._compact_memory()
        self._reindex()

    def _live_width(self) -> int:
        return int(self.source_lengths.max(initial=0))

    def _worth_compacting(self) -> bool:
        """When compacting would shrink the memory the graph reads by over a quarter:
        freed slots are reused by the next joins, so this is mostly the width
        shrinking after the longest sources have left (attention pays for padding)."""
        now = self.used_slots * self._memory.shape[1]
        return 3 * now > 4 * len(self.sentences) * self._live_width()

    def _compact_memory(self) -> None:
        """Keep only the live sentences' memory, in their order, at their widest."""
        self._resize(self._memory.shape[0], self._live_width(), self.slots)
        self.slots = np.arange(len(self.sentences), dtype=np.int64)
        self._free_slots = []

    def reorder(
        self,
        parents: np.ndarray,
        tokens: np.ndarray,
        cumulative: np.ndarray,
        h_out: np.ndarray,
        c_out: np.ndarray,
        leaving: set[int] | None = None,
    ) -> None:
        """Apply one step: row r continues global row parents[r] with tokens[r]; the
        sentences at `leaving` are dropped in the same gather (one copy of the state,
        not a reorder and then a removal)."""
        self.steps = self.steps + 1
        if leaving:
            keep_rows = self._rows_kept(leaving)
            parents, tokens, cumulative = parents[keep_rows], tokens[keep_rows], \
                cumulative[keep_rows]
        self.h = h_out[:, parents]
        self.c = c_out[:, parents]
        self.prev_tokens = tokens.astype(np.int64, copy=False)
        self.cumulative = cumulative
        if leaving:
            self._drop_sentences(leaving)
