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
        self.memory = np.zeros((0, 0, memory_dim), np.float32)
        self.memory_mask = np.zeros((0, 0), bool)
        self.memory_index = np.zeros((0,), np.int64)
        self.offsets = np.zeros((0,), np.int64)
        self.slots = np.zeros((0,), np.int64)
        """Per sentence, its memory slot (row of `memory`); slots of sentences that left
        stay until the next compaction: rows never point at them."""

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
        width = max(self.memory.shape[1], max(m.shape[0] for m in memories))
        memory = np.zeros((len(sentences), width, self.memory.shape[2]), np.float32)
        mask = np.zeros((len(sentences), width), bool)
        for i, m in enumerate(memories):
            memory[i, : m.shape[0]] = m
            mask[i, : m.shape[0]] = True
        first_slot = self.memory.shape[0]
        self.memory = np.concatenate([self._pad_memory(width), memory], axis=0)
        self.memory_mask = np.concatenate([self._pad_mask(width), mask], axis=0)
        self.slots = np.concatenate(
            [self.slots, np.arange(first_slot, first_slot + len(sentences), dtype=np.int64)])

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

    def _pad_memory(self, width: int) -> np.ndarray:
        extra = width - self.memory.shape[1]
        if extra == 0:
            return self.memory
        return np.pad(self.memory, ((0, 0), (0, extra), (0, 0)))

    def _pad_mask(self, width: int) -> np.ndarray:
        extra = width - self.memory_mask.shape[1]
        if extra == 0:
            return self.memory_mask
        return np.pad(self.memory_mask, ((0, 0), (0, extra)))

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
        self.sentences = [self.sentences[i] for i in keep_sentences]
        self.slots = self.slots[keep_sentences]
        if self.memory.shape[0] - len(self.sentences) > max(4, self.memory.shape[0] // 4):
            self._compact_memory()
        self._reindex()

    def _compact_memory(self) -> None:
        """Keep only the live sentences' memory, in their order, and shrink its width
        when the longest sentences have left (attention pays for padding)."""
        width = max((s.source_length for s in self.sentences), default=0)
        self.memory = self.memory[self.slots, :width]
        self.memory_mask = self.memory_mask[self.slots, :width]
        self.slots = np.arange(len(self.sentences), dtype=np.int64)

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
