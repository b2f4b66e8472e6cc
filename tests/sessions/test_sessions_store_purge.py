"""The SQLite store purges rows of sessions that were evicted or abandoned and never
resumed: past the retention, and the oldest beyond max_rows; files written before
purging existed are read and purged too."""

from __future__ import annotations

import sqlite3

from seqserve.server.engine.sessions.store import Snapshot, SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_rows_past_the_retention_are_purged(tmp_path) -> None:
    clock = Clock()
    store = SqliteStore(tmp_path / "s.sqlite", retention_seconds=60, clock=clock)
    store.save_many([Snapshot("m", f"old{i}", 1, i, b"x") for i in range(10)])
    clock.now += 50
    store.save_many([Snapshot("m", "recent", 1, 3, b"y")])
    clock.now += 40  # the ten are 90 s old, "recent" 40 s; the last purge was 40 s ago
    store.save_many([Snapshot("m", "live", 1, 4, b"z")])  # a tick's write purges (> 30 s)
    assert store.count() == 2
    assert store.load("m", "old0") is None and store.load("m", "recent").position == 3
    store.close()


def test_the_oldest_rows_beyond_max_rows_are_purged(tmp_path) -> None:
    clock = Clock()
    store = SqliteStore(tmp_path / "s.sqlite", max_rows=5, clock=clock)
    for i in range(12):
        clock.now += 1
        store.save_many([Snapshot("m", f"s{i}", 1, i, b"x")])
    assert store.purge() == 7
    assert store.count() == 5 and store.load("m", "s6") is None
    assert store.load("m", "s11").position == 11
    store.close()


def test_a_file_from_before_purging_is_upgraded_and_purged(tmp_path) -> None:
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE snapshots (model TEXT NOT NULL, session_id TEXT NOT NULL, version "
        "INTEGER NOT NULL, position INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY "
        "(model, session_id))"
    )
    db.execute("INSERT INTO snapshots VALUES ('m', 'old', 1, 9, x'00')")
    db.commit()
    db.close()
    clock = Clock()
    store = SqliteStore(path, retention_seconds=60, clock=clock)
    assert store.load("m", "old").position == 9  # kept until the retention passes
    clock.now += 61
    assert store.purge() == 1 and store.count() == 0
    store.close()
