"""Preallocated state rows for every session slot, gathered into and scattered out of
the graph's batch layout (e.g. LSTM h/c are [L,B,H]: batch axis 1)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqserve.server.repository.streaming_config import StatePair


class StatePool:
    def __init__(self, pairs: Sequence[StatePair], capacity: int) -> None:
        self.pairs = list(pairs)
        self.capacity = capacity
        # Slot-major storage ([capacity, *shape]): one session's state is one
        # contiguous row per pair, cheap to snapshot and restore.
        self.arrays = [np.empty((capacity, *p.shape), dtype=np.float32) for p in self.pairs]
        self.row_bytes = sum(int(np.prod(p.shape)) * 4 for p in self.pairs)
        """Bytes of state one session holds (what memory per session is bounded by)."""

    def reset(self, slot: int) -> None:
        for pair, array in zip(self.pairs, self.arrays, strict=True):
            array[slot] = pair.init

    def gather(self, slots: np.ndarray) -> list[np.ndarray]:
        """Graph-layout tensors of the given slots, in row order."""
        return [
            np.ascontiguousarray(np.moveaxis(array[slots], 0, pair.batch_axis))
            for pair, array in zip(self.pairs, self.arrays, strict=True)
        ]

    def scatter(self, slots: np.ndarray, tensors: Sequence[np.ndarray]) -> None:
        for pair, array, tensor in zip(self.pairs, self.arrays, tensors, strict=True):
            array[slots] = np.moveaxis(tensor, pair.batch_axis, 0)

    def dump(self, slot: int) -> bytes:
        return b"".join(array[slot].tobytes() for array in self.arrays)

    def dump_many(self, slots: Sequence[int]) -> list[bytes]:
        """dump() of many slots with one gather per state pair (a tick's snapshots)."""
        index = np.asarray(slots, dtype=np.int64)
        rows = np.concatenate(
            [array[index].reshape(len(index), -1) for array in self.arrays], axis=1
        )
        return [row.tobytes() for row in rows]

    def load(self, slot: int, blob: bytes) -> None:
        if len(blob) != self.row_bytes:
            raise ValueError(f"state snapshot has {len(blob)} bytes, expected {self.row_bytes}")
        offset = 0
        for array in self.arrays:
            size = array[slot].nbytes
            array[slot] = np.frombuffer(blob, np.float32, size // 4, offset).reshape(
                array.shape[1:]
            )
            offset += size
