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

import numpy as np

from seqserve.server.engine.live_sentence import LiveSentence


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
        self.used_slots = 0
        self._free_slots: list[int] = []
        """Slots below used_slots whose sentence left; the next joins reuse them."""
        self.memory_index = np.zeros((0,), np.int64)
        self.offsets = np.zeros((0,), np.int64)
        self.slots = np.zeros((0,), np.int64)
        """Per sentence, its memory slot (row of `memory`); slots of sentences that left
        stay until a join reuses them or a compaction: rows never point at them."""

    def __len__(self) -> int:
        return len(self.sentences)

    @property
    def rows(self) -> int:
        return int(self.prev_tokens.shape[0])

    def _reindex(self) -> None:
        beams = np.array([s.beam for s in self.sentences], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(beams)[:-1]]).astype(np.int64)
        self.memory_index = np.repeat(self.slots, beams)

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
        copied to the front, each cut or padded to `width`."""
        memory = np.zeros((capacity, width, self._memory.shape[2]), np.float32)
        mask = np.zeros((capacity, width), bool)
        count = self.used_slots if keep is None else len(keep)
        picked = slice(0, count) if keep is None else keep
        copied = min(width, self._memory.shape[1])
        memory[:count, :copied] = self._memory[picked, :copied]
        mask[:count, :copied] = self._memory_mask[picked, :copied]
        self._memory, self._memory_mask = memory, mask
        self.used_slots = count

    def remove(self, leaving: set[int]) -> None:
        """Drop the sentences at these positions (finished, cancelled, expired)."""
        if not leaving:
            return
        keep_sentences = [i for i in range(len(self.sentences)) if i not in leaving]
        keep_rows = np.concatenate(
            [
                np.arange(self.offsets[i], self.offsets[i] + self.sentences[i].beam)
                for i in keep_sentences
            ]
            or [np.zeros((0,), np.int64)]
        ).astype(np.int64)
        self.prev_tokens = self.prev_tokens[keep_rows]
        self.cumulative = self.cumulative[keep_rows]
        self.h = self.h[:, keep_rows]
        self.c = self.c[:, keep_rows]
        self._free_slots.extend(int(self.slots[i]) for i in leaving)
        self.sentences = [self.sentences[i] for i in keep_sentences]
        self.slots = self.slots[keep_sentences]
        if self._worth_compacting():
            self._compact_memory()
        self._reindex()

    def _live_width(self) -> int:
        return max((s.source_length for s in self.sentences), default=0)

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
    ) -> None:
        """Apply one step: row r continues global row parents[r] with tokens[r]."""
        self.h = h_out[:, parents]
        self.c = c_out[:, parents]
        self.prev_tokens = tokens.astype(np.int64, copy=False)
        self.cumulative = cumulative
