"""Sessions across a version upgrade (or a reload of the same version).

A session's state is only meaningful to a graph with the same state layout:
the same state tensors (input and output names, per-session shape, batch
axis). When the new version's layout equals the old one's, the new version
inherits the old one's session store: a session that was live on the old
version is snapshotted when the old version stops, and reopening its id on
the new version resumes it there. When the layouts differ, reopening such a
session is refused with the difference as the reason.
"""

from __future__ import annotations

from typing import Any

from seqserve.server.repository.streaming_config import StreamingConfig


def state_layout(config: StreamingConfig) -> list[tuple[str, str, tuple[int, ...], int]]:
    return [
        (pair.input, pair.output, tuple(pair.shape), pair.batch_axis)
        for pair in config.graph.states
    ]


def layout_difference(old: StreamingConfig, new: StreamingConfig) -> str | None:
    """None when a state saved by `old` is a valid state of `new`; else why not."""
    before, after = state_layout(old), state_layout(new)
    if before == after:
        return None
    return f"state layout changed from {_shown(before)} to {_shown(after)}"


def _shown(layout: list[tuple[str, str, tuple[int, ...], int]]) -> str:
    return "[" + ", ".join(f"{i}->{o} {list(s)}" for i, o, s, _ in layout) + "]"


def hand_over(old: Any, new: Any) -> None:
    """Let `new` resume the sessions of `old` (both StreamingModels), or record why not."""
    difference = layout_difference(old.config, new.config)
    if difference is None:
        old.keep_store_open = True  # `new` reads it, and closes it when it stops
        new.scheduler.inherit(old.store, old.info.version)
    else:
        new.scheduler.refuse_version(old.info.version, difference)
