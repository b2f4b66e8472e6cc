"""What an open or a GetSession reports about a session."""

from __future__ import annotations

from dataclasses import dataclass

from seqserve.server.engine.sessions.table import ChunkResult


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    position: int
    """Steps consumed so far (after a resume: the restored snapshot's position)."""
    resumed: bool = False
    """The state came from a snapshot (the client resends the steps after `position`)."""
    state_bytes: int = 0
    pending_chunks: int = 0
    attached: bool = False
    replay: ChunkResult | None = None
    """The outputs of steps resume_from..position-1 again, when the open asked for them."""
    created: bool = False
    """This open made a new session (neither live nor in the store)."""
