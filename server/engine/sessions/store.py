"""Where session snapshots live between server runs (or replicas).

A snapshot is (model, session id) -> (model version, position, state bytes).
`save_many` takes every snapshot of one tick: one transaction per tick, never
one per session per step.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Snapshot:
    model: str
    session_id: str
    version: int
    position: int
    state: bytes
    outputs: bytes = b""
    """The session's recent outputs (replay.OutputLog.encode): what a client that resumes
    from an earlier position gets again. A store that drops it only loses the replay."""
    owner: str = ""
    """Who may resume it (a token digest or a credential identity; "" = anyone)."""


class SessionStore(Protocol):
    durable: bool
    """Snapshots outlive the process. A store that is not durable only needs the
    snapshots of sessions leaving memory (evict, unload); per-chunk ones buy nothing."""

    def save_many(self, snapshots: list[Snapshot]) -> list[Snapshot] | None:
        """Write one tick's snapshots; a store with leases (Redis) returns the ones it
        refused because another replica owns them now (None/empty: all written)."""
        ...

    def load(self, model: str, session_id: str) -> Snapshot | None: ...

    def delete(self, model: str, session_id: str) -> None: ...

    def close(self) -> None: ...

    # A store shared by replicas (RedisSessionStore) also has claim(model, id) (take
    # the session's lease or raise naming its owner) and release(model, ids); the
    # scheduler calls them where present.


class MemoryStore:
    """In-process snapshots (survive eviction, not a restart), bounded: the oldest
    snapshots go first once `max_entries` is reached."""

    durable = False

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: collections.OrderedDict[tuple[str, str], Snapshot] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def save_many(self, snapshots: list[Snapshot]) -> None:
        with self._lock:
            for snap in snapshots:
                key = (snap.model, snap.session_id)
                self._items.pop(key, None)
                self._items[key] = snap
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def load(self, model: str, session_id: str) -> Snapshot | None:
        with self._lock:
            return self._items.get((model, session_id))

    def delete(self, model: str, session_id: str) -> None:
        with self._lock:
            self._items.pop((model, session_id), None)

    def close(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class SqliteStore:
    """Embedded SQLite file, WAL mode: a tick's snapshots are one transaction, and a
    process killed mid-write leaves the previous tick's snapshots intact."""

    durable = True
    PURGE_EVERY_SECONDS = 30.0
    """Purging runs with a tick's writes, at most this often (one indexed DELETE)."""

    def __init__(
        self, path: Path, *, retention_seconds: float = 86400.0, max_rows: int = 1 << 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Rows of sessions that were evicted or abandoned and never resumed would
        # otherwise stay forever: rows older than the retention, and the oldest
        # beyond max_rows, are purged.
        self.retention_seconds = retention_seconds
        self.max_rows = max_rows
        self._clock = clock
        self._last_purge = clock()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the scheduler thread (writes) and the event
        # loop thread (loads on open), serialised by our own lock.
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a power cut may lose the last commits, a
            # process crash (SIGKILL) loses nothing that was committed.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS snapshots (model TEXT NOT NULL, session_id TEXT "
                "NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL, state BLOB "
                "NOT NULL, PRIMARY KEY (model, session_id))"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(snapshots)")}
            if "saved_at" not in columns:  # a file written before purging existed
                self._db.execute(
                    "ALTER TABLE snapshots ADD COLUMN saved_at REAL NOT NULL DEFAULT 0"
                )
                self._db.execute(f"UPDATE snapshots SET saved_at = {self._clock()!r}")
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS snapshots_saved_at ON snapshots (saved_at)"
            )
            if "outputs" not in columns:  # a file written before outputs were kept
                self._db.execute(
                    "ALTER TABLE snapshots ADD COLUMN outputs BLOB NOT NULL DEFAULT x''"
                )
            if "owner" not in columns:  # ... or before sessions had owners
                self._db.execute("ALTER TABLE snapshots ADD COLUMN owner TEXT NOT NULL DEFAULT ''")

    def save_many(self, snapshots: list[Snapshot]) -> None:
        if not snapshots:
            return
        now = self._clock()
        rows = [
            (s.model, s.session_id, s.version, s.position, s.state, now, s.outputs, s.owner)
            for s in snapshots
        ]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO snapshots (model, session_id, version, position, "
                    "state, saved_at, outputs, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        if now - self._last_purge >= self.PURGE_EVERY_SECONDS:
            self.purge()

    def purge(self) -> int:
        """Delete rows past the retention, then the oldest beyond max_rows; how many."""
        now = self._clock()
        self._last_purge = now
        with self._lock:
            expired = self._db.execute(
                "DELETE FROM snapshots WHERE saved_at < ?", (now - self.retention_seconds,)
            ).rowcount
            excess = self._db.execute(
                "DELETE FROM snapshots WHERE rowid IN (SELECT rowid FROM snapshots "
                "ORDER BY saved_at DESC LIMIT -1 OFFSET ?)", (self.max_rows,)
            ).rowcount
        return int(expired) + int(excess)

    def load(self, model: str, session_id: str) -> Snapshot | None:
        with self._lock:
            row = self._db.execute(
                "SELECT version, position, state, outputs, owner FROM snapshots WHERE model=? AND "
                "session_id=?",
                (model, session_id),
            ).fetchone()
        if row is None:
            return None
        return Snapshot(
            model, session_id, int(row[0]), int(row[1]), bytes(row[2]), bytes(row[3] or b""),
            str(row[4] or ""),
        )

    def delete(self, model: str, session_id: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM snapshots WHERE model=? AND session_id=?", (model, session_id)
            )

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
