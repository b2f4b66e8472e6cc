"""The replay log of a session's recent outputs: bounded, round-trips through a snapshot,
refuses (OUT_OF_RANGE) what it no longer holds."""

from __future__ import annotations

import numpy as np
import pytest

from seqserve.server.engine.sessions.replay import OutputLayout, OutputLog
from seqserve.server.errors import OutOfRangeError


def tick(first: int, steps: int) -> dict[str, np.ndarray]:
    t = np.arange(first, first + steps, dtype=np.float32)
    return {"forecast": np.stack([t, t + 0.5], axis=1)[None],  # [1, T, 2]
            "ids": np.arange(first, first + steps, dtype=np.int64)[None, :, None]}


def test_log_keeps_the_last_steps_and_round_trips() -> None:
    layout = OutputLayout.of(tick(0, 1))
    log = OutputLog()
    for first in range(0, 40, 4):
        log.append(first, 4, layout.pack(tick(first, 4))[0].tobytes(), keep=10)
    assert (log.first_step, log.end) == (28, 40)  # whole chunks, at least 10 steps
    restored, parsed = OutputLog.decode(log.encode(layout))
    got = restored.replay(parsed, 30, 40)
    assert got is not None
    assert got["forecast"][:, 0].tolist() == list(range(30, 40))
    assert got["ids"][:, 0].tolist() == list(range(30, 40))
    assert restored.replay(parsed, 40, 40) is None
    with pytest.raises(OutOfRangeError, match="at least 28"):
        restored.replay(parsed, 20, 40)


def test_empty_log_encodes_to_nothing() -> None:
    log, layout = OutputLog.decode(OutputLog().encode(None))
    assert log.steps == 0 and layout is None
