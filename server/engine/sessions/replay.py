"""The outputs of a session's most recent steps, kept so a resuming client loses none.

A client sees a chunk's outputs only after the server computed them (and, with
a durable store, committed the snapshot that includes them). When the process
dies, or the connection drops, between that commit and the client reading the
response, the session resumes past the last output the client saw. So each
session keeps the outputs of its last `replay_steps` steps, in memory and in
every snapshot; a client that reopens with `resume_from` (the position after
the last output it received) gets the outputs of steps resume_from..position-1
again, as computed then, and resends its inputs from `position`.

Layout: the graph's per-step outputs packed into one numpy structured row per
step, so one chunk is one bytes object, and a snapshot's log is a header (the
row layout, the first step) followed by the rows, step-major.
"""

from __future__ import annotations

import collections
import json
import struct

import numpy as np

from seqserve.server.errors import OutOfRangeError

_MAGIC = b"SQR1"
_HEAD = struct.Struct("<IqI")
"""header length, first step, steps."""


class OutputLayout:
    """The structured dtype of one step's outputs, learned from the graph's outputs."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.header = json.dumps(
            [[name, dtype.fields[name][0].base.str, list(dtype.fields[name][0].shape)]
             for name in dtype.names or ()]
        ).encode()

    @classmethod
    def of(cls, outputs: dict[str, np.ndarray]) -> OutputLayout:
        """From a tick's outputs [B, T, ...] per name."""
        return cls(np.dtype([(name, out.dtype, out.shape[2:]) for name, out in outputs.items()]))

    @classmethod
    def parse(cls, header: bytes) -> OutputLayout:
        fields = json.loads(header)
        return cls(np.dtype([(name, np.dtype(kind), tuple(shape)) for name, kind, shape in fields]))

    def pack(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """A tick's outputs [B, T, ...] as structured rows [B, T] (one copy per name)."""
        first = next(iter(outputs.values()))
        rows = np.empty(first.shape[:2], dtype=self.dtype)
        for name, out in outputs.items():
            rows[name] = out
        return rows


class OutputLog:
    """One session's recent outputs: (first_step, steps, packed rows) per chunk, oldest first."""

    __slots__ = ("chunks", "end", "steps")

    def __init__(self) -> None:
        self.chunks: collections.deque[tuple[int, int, bytes]] = collections.deque()
        self.steps = 0
        self.end = 0
        """The step after the last one held (the session's position when it was logged)."""

    def append(self, first_step: int, steps: int, rows: bytes, keep: int) -> None:
        self.chunks.append((first_step, steps, rows))
        self.steps += steps
        self.end = first_step + steps
        # Whole chunks go, oldest first, while the rest still hold `keep` steps.
        while len(self.chunks) > 1 and self.steps - self.chunks[0][1] >= keep:
            self.steps -= self.chunks.popleft()[1]

    @property
    def first_step(self) -> int:
        return self.chunks[0][0] if self.chunks else self.end

    def encode(self, layout: OutputLayout | None) -> bytes:
        """The log as one blob for a snapshot (b"" when empty or not yet laid out)."""
        if not self.chunks or layout is None:
            return b""
        head = _MAGIC + _HEAD.pack(len(layout.header), self.first_step, self.steps)
        return b"".join([head, layout.header, *(rows for _, _, rows in self.chunks)])

    @classmethod
    def decode(cls, blob: bytes) -> tuple[OutputLog, OutputLayout | None]:
        log = cls()
        if not blob:
            return log, None
        if blob[:4] != _MAGIC:
            raise ValueError("not an output log")
        header_len, first, steps = _HEAD.unpack_from(blob, 4)
        start = 4 + _HEAD.size
        layout = OutputLayout.parse(blob[start : start + header_len])
        log.append(first, steps, blob[start + header_len :], keep=steps)
        return log, layout

    def replay(
        self, layout: OutputLayout | None, start: int, end: int
    ) -> dict[str, np.ndarray] | None:
        """Outputs per name [end-start, ...] of steps start..end-1 (None when none asked);
        OutOfRangeError when the log no longer holds them."""
        if start >= end:
            return None
        if layout is None or start < self.first_step or end > self.end:
            held = f"{self.first_step}..{self.end - 1}" if self.steps else "none"
            raise OutOfRangeError(
                f"the outputs of steps {start}..{end - 1} are no longer held (held: {held}; "
                f"sessions.replay_steps bounds them): resume_from must be at least "
                f"{self.first_step if self.steps else end}"
            )
        rows = np.frombuffer(b"".join(r for _, _, r in self.chunks), dtype=layout.dtype)
        picked = rows[start - self.first_step : end - self.first_step]
        return {name: np.ascontiguousarray(picked[name]) for name in layout.dtype.names or ()}
