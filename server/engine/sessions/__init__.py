"""Streaming sessions: server-held RNN state, batched across sessions per tick.

    table.py      session id -> Session (slot, position, pending chunks, flags)
    state_pool.py preallocated state arrays, one row per slot; gather/scatter
    store.py      SessionStore: snapshots (in-memory default, SQLite)
    scheduler.py  the tick loop on its own thread
    model.py      StreamingModel: what api/ calls
"""
