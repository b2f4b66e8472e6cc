"""The session table: id -> Session, and the free list of state-pool slots.

Every field of a Session is guarded by the scheduler's lock; the state rows
of a `busy` session belong to the scheduler thread until its run is done.
"""

from __future__ import annotations

import asyncio
import collections
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from seqserve.server.engine.loop_delivery import deliver as deliver_to_loops
from seqserve.server.engine.sessions.replay import OutputLog
from seqserve.server.errors import InvalidArgumentError, ResourceExhaustedError

_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


def check_session_id(session_id: str) -> str:
    if not _SESSION_ID.match(session_id):
        raise InvalidArgumentError(
            "session_id must be 1-128 characters of [A-Za-z0-9._:@-], starting with a "
            f"letter or digit (got {session_id[:40]!r})"
        )
    return session_id


def new_session_id() -> str:
    return uuid.uuid4().hex


class ChunkResult(NamedTuple):
    first_step: int
    """Position of the chunk's first step in the session (0-based)."""
    position: int
    """Steps consumed after this chunk."""
    outputs: dict[str, np.ndarray]
    """Graph output name -> [T, ...] for this chunk's T steps."""


Sink = Callable[[ChunkResult | BaseException], None]
"""Called once per chunk with the result or the error: on `Chunk.loop` when the chunk
has one, else on the scheduler thread."""


class Chunk:
    """One validated chunk waiting for (or in) a tick. A slotted class: one is made
    per chunk of every session, on the hot path."""

    __slots__ = ("data", "deadline", "enqueued", "loop", "sink", "steps")

    def __init__(
        self, data: np.ndarray, sink: Sink, loop: asyncio.AbstractEventLoop | None = None,
        deadline: float | None = None,
    ) -> None:
        self.data = data
        """[T, features] float32 or [T] int64, validated."""
        self.sink = sink
        self.loop = loop
        """The event loop the sink belongs to: the scheduler hands a tick's results to
        each loop in one call_soon_threadsafe (one wake-up per tick, not per chunk)."""
        self.enqueued = time.monotonic()
        self.steps = int(data.shape[0])
        self.deadline = deadline
        """The caller's deadline (time.monotonic()), None without one: a chunk still
        queued past it is never run, so the client knows its session did not move."""


@dataclass
class Session:
    id: str
    slot: int
    position: int = 0
    pending: collections.deque[Chunk] = field(default_factory=collections.deque)
    busy: bool = False
    """A chunk of this session is in the current run."""
    attached: bool = False
    """A Predict stream holds the session (a second one is refused)."""
    closed: bool = False
    last_active: float = field(default_factory=time.monotonic)
    last_result: float = field(default_factory=time.monotonic)
    """When the session's previous chunk result was made (or it opened): inter-step metric."""
    snapshot_position: int = 0
    """Position of the last snapshot written (or restored)."""
    outputs: OutputLog = field(default_factory=OutputLog)
    """The outputs of the last steps, for a client resuming from an earlier position."""
    deliver_from: int = 0
    """Outputs of steps below this were delivered before a resume: not sent again."""
    owner: str = ""
    """Who may touch the session (api/session_access.py); "" = anyone (isolation off)."""


class SessionTable:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.sessions: dict[str, Session] = {}
        self._free = list(range(capacity - 1, -1, -1))

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def add(self, session_id: str) -> Session:
        if not self._free:
            raise ResourceExhaustedError(
                f"too many live sessions (max_sessions={self.capacity}); close idle ones "
                "or retry later"
            )
        session = Session(session_id, self._free.pop())
        self.sessions[session_id] = session
        return session

    def remove(self, session: Session) -> None:
        """Forget the id now; the slot comes back once no run uses it."""
        session.closed = True
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        if not session.busy:
            self.release(session)

    def release(self, session: Session) -> None:
        if session.slot >= 0:  # idempotent: a closed session may be released twice
            self._free.append(session.slot)
            session.slot = -1

    @property
    def free_slots(self) -> int:
        return len(self._free)


def deliver(items: list[tuple[Chunk, ChunkResult | BaseException]]) -> None:
    """Hand outcomes to their chunks' sinks, from any thread (one wake-up per loop)."""
    deliver_to_loops((chunk.loop, chunk.sink, outcome) for chunk, outcome in items)
