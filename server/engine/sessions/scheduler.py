"""The session tick loop of one streaming model, on its own thread (an EngineWorker).

Each tick: schedule() evicts idle sessions and takes the oldest pending chunk
of up to max_rows sessions (one chunk per session, so a session's chunks run
in order, one per tick) -> execute() runs one step with per-row lengths and
scatters the new state -> update() writes the tick's snapshots in one store
transaction and hands each chunk's outputs to its sink.

Ready sessions (a chunk pending, none running) wait in a heap keyed by their
oldest chunk's arrival, so a tick costs O(rows log n) however many sessions
are live and idle; the full table is walked only by the idle scan.

Table mutations from the event loop (open, submit, close) take the same lock;
the graph runs outside it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import NamedTuple

import numpy as np

from seqserve.server import metrics
from seqserve.server.engine.sessions.redis_store import SessionOwnedElsewhereError
from seqserve.server.engine.sessions.replay import OutputLayout, OutputLog
from seqserve.server.engine.sessions.session_info import SessionInfo
from seqserve.server.engine.sessions.state_pool import StatePool
from seqserve.server.engine.sessions.step_graph import StepGraph
from seqserve.server.engine.sessions.store import SessionStore, Snapshot
from seqserve.server.engine.sessions.table import (
    Chunk,
    ChunkResult,
    Session,
    SessionTable,
    check_session_id,
    deliver,
    new_session_id,
)
from seqserve.server.engine.worker import EngineWorker
from seqserve.server.errors import (
    DRAINING_MESSAGE,
    DeadlineExceededError,
    DrainingError,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    SeqServeError,
    UnavailableError,
)
from seqserve.server.repository.streaming_config import StreamingConfig

log = logging.getLogger(__name__)


def _check_owner(session_id: str, owner: str, caller: str | None) -> None:
    """A session with an owner is touched only by it (None: the call is not checked)."""
    if caller is None or not owner or caller == owner:
        return
    raise PermissionDeniedError(
        f"session '{session_id}' belongs to another client: send the session_token its "
        "open returned (or the credentials that opened it)"
    )


TickBatch = list[tuple[Session, Chunk]]
"""One tick's rows: per session its oldest pending chunk."""


class Ticked(NamedTuple):
    """A tick's graph outputs ([rows, T, ...] per name), and when the tick began."""

    outputs: dict[str, np.ndarray]
    ticked: float


class SessionScheduler(EngineWorker[TickBatch, Ticked]):
    """Plan: the tick's rows. Outputs: the step graph's outputs for them."""

    def __init__(
        self, model: str, version: int, config: StreamingConfig, graph: StepGraph,
        store: SessionStore,
    ) -> None:
        super().__init__(model, f"sessions-{model}")
        self.model, self.version, self.config = model, version, config
        self.graph, self.store = graph, store
        self.limits = config.limits
        self.table = SessionTable(self.limits.max_sessions)
        self.pool = StatePool(config.graph.states, self.limits.max_sessions)
        self.max_rows = 1 if config.batching.policy == "sequential" else config.batching.max_rows
        # Stores of the versions this one replaced with the same state layout
        # (sessions resume from them), and why other versions' sessions cannot.
        self.inherited: list[tuple[SessionStore, int]] = []
        self._refused_versions: dict[int, str] = {}
        self._draining = False
        """Server shutdown began: no new opens or chunks; streams ending detach, not close."""
        self.replay_steps = config.sessions.replay_steps
        self._layout: OutputLayout | None = None
        """How a step's outputs pack into the replay log (known after the first run)."""
        self._queued = 0
        """Chunks pending over all sessions (bounded by batching.max_queue)."""
        self._ready: list[tuple[float, int, Session]] = []
        """Heap of (oldest chunk's arrival, tie-break, session) for sessions with a chunk
        pending and none running. Closed sessions are dropped when popped."""
        self._ready_order = itertools.count()
        self._next_idle_scan = 0.0
        # Orders a tick's snapshot write against CloseSession's delete: without it a
        # snapshot of a session closed mid-run could land after the delete and
        # bring the closed session back on its next open.
        self._store_lock = threading.Lock()
        self.ticks = 0
        metrics.SESSION_STATE_BYTES.labels(model).set(self.pool.row_bytes)
        metrics.SESSION_CAPACITY.labels(model).set(self.table.capacity)
        metrics.QUEUE_CAPACITY.labels(model).set(self.config.batching.max_queue)
        metrics.REJECTED.labels(model, "queue_full")  # exists at 0: rate() has data before any

    # ---- any thread ---------------------------------------------------------
    def open(
        self, session_id: str | None, *, attach: bool, resume_from: int | None = None,
        owner: str | None = None, new_owner: str | None = None,
    ) -> SessionInfo:
        """Create, resume (from the store) or join a session; `attach` claims it for a stream.

        `resume_from`: the position after the last output the client received. Outputs of
        steps from there to the session's position come back in `replay`; if the session
        resumes below it, the outputs of the resent steps below it are not sent again.
        `owner`: who opens (None: isolation off); an existing session must have it.
        `new_owner`: the owner a session this call creates takes (default: `owner`), so
        that a new session's token is the one the server issued, not one the client sent.
        """
        sid = check_session_id(session_id) if session_id else new_session_id()
        with self._cond:
            self._check_running()
            live = self.table.get(sid)
            if live is not None:
                if attach and live.attached:
                    raise FailedPreconditionError(
                        f"session '{sid}' already has a Predict stream attached"
                    )
                _check_owner(sid, live.owner, owner)
                replay = self._replay(live.outputs, self._layout, live.position, resume_from)
                live.attached = live.attached or attach
                live.last_active = time.monotonic()
                if resume_from is not None:
                    live.deliver_from = max(live.position, resume_from)
                metrics.SESSIONS_OPENED.labels(self.model, "attached").inc()
                return self._info(live, replay=replay)
        # A shared store (Redis) hands each session to one replica at a time: take
        # its lease first (or fail naming the owner), then read the snapshot the
        # previous owner left. The store calls happen outside the lock (network, disk).
        claim = getattr(self.store, "claim", None)
        if claim is not None:
            claim(self.model, sid)
        try:
            return self._open_new(
                sid, snapshot=self._find_snapshot(sid) if session_id else None,
                attach=attach, resume_from=resume_from,
                owner=owner, new_owner=owner if new_owner is None else new_owner,
            )
        except BaseException:
            if claim is not None and self.table.get(sid) is None:
                self._release_leases([sid])
            raise

    def _open_new(
        self, sid: str, *, snapshot: Snapshot | None, attach: bool, resume_from: int | None,
        owner: str | None, new_owner: str | None,
    ) -> SessionInfo:
        accepted = {self.version, *(version for _, version in self.inherited)}
        if snapshot is not None and snapshot.version not in accepted:
            why = self._refused_versions.get(snapshot.version, "its state may not fit")
            raise FailedPreconditionError(
                f"session '{sid}' was saved by version {snapshot.version} of '{self.model}', "
                f"not the loaded version {self.version} ({why}); open a new session"
            )
        outputs, layout, replay, position = OutputLog(), self._layout, None, 0
        if snapshot is not None:
            _check_owner(sid, snapshot.owner, owner)
            outputs, saved_layout = OutputLog.decode(snapshot.outputs)
            layout = layout or saved_layout
            position = snapshot.position
            outputs.end = max(outputs.end, position)
        replay = self._replay(outputs, layout, position, resume_from)
        with self._cond:
            self._check_running()
            if self.table.get(sid) is not None:  # opened meanwhile by another call
                raise FailedPreconditionError(f"session '{sid}' is being opened concurrently")
            session = self.table.add(sid)
            session.attached = attach
            if snapshot is None:
                session.owner = new_owner or ""
                self.pool.reset(session.slot)
            else:
                session.owner = owner or snapshot.owner
                self.pool.load(session.slot, snapshot.state)
                session.position = session.snapshot_position = snapshot.position
                session.outputs = outputs
                self._layout = self._layout or layout
            if resume_from is not None:
                session.deliver_from = max(session.position, resume_from)
            metrics.LIVE_SESSIONS.labels(self.model).set(len(self.table))
            how = "resumed" if snapshot is not None else "new"
            metrics.SESSIONS_OPENED.labels(self.model, how).inc()
            return self._info(session, resumed=snapshot is not None, replay=replay,
                              created=snapshot is None)

    def inherit(self, store: SessionStore, version: int) -> None:
        """Resume sessions snapshotted by `version` in `store` (same state layout)."""
        self.inherited.append((store, version))

    def refuse_version(self, version: int, reason: str) -> None:
        self._refused_versions[version] = reason

    def _find_snapshot(self, sid: str) -> Snapshot | None:
        snapshot = self.store.load(self.model, sid)
        for store, version in self.inherited:
            if snapshot is not None:
                break
            found = store.load(self.model, sid)
            if found is not None and found.version == version:
                snapshot = found
        return snapshot

    def _replay(
        self, outputs: OutputLog, layout: OutputLayout | None, position: int,
        resume_from: int | None,
    ) -> ChunkResult | None:
        if resume_from is None or resume_from >= position:
            return None
        values = outputs.replay(layout, resume_from, position)
        return None if values is None else ChunkResult(resume_from, position, values)

    def submit_many(
        self, items: list[tuple[str, Chunk]], owners: list[str | None] | None = None
    ) -> list[SeqServeError | None]:
        """Queue chunks of many sessions under one lock; per item None or why it was
        refused (the others are queued regardless). `owners`, parallel to items: who
        sends each (None: unchecked)."""
        refused: list[SeqServeError | None] = []
        with self._cond:
            self._check_running()
            for index, (session_id, chunk) in enumerate(items):
                try:
                    if owners is not None:
                        _check_owner(session_id, self._live(session_id).owner, owners[index])
                    self._enqueue(session_id, chunk)
                    refused.append(None)
                except SeqServeError as exc:
                    refused.append(exc)
            self._cond.notify()
        return refused

    def _enqueue(self, session_id: str, chunk: Chunk) -> None:
        """(lock held) Append one chunk to its session, or raise why not."""
        session = self._live(session_id)
        if self._queued >= self.config.batching.max_queue:
            metrics.REJECTED.labels(self.model, "queue_full").inc()
            raise ResourceExhaustedError(
                f"model '{self.model}' has {self._queued} chunks queued (max_queue); "
                "retry later"
            )
        if len(session.pending) >= self.limits.max_pending_chunks:
            raise ResourceExhaustedError(
                f"session '{session_id}' has {len(session.pending)} chunks queued "
                f"(max_pending_chunks); wait for their results"
            )
        session.pending.append(chunk)
        self._queued += 1
        session.last_active = time.monotonic()
        if len(session.pending) == 1 and not session.busy:
            self._push_ready(session)

    def close(
        self, session_id: str, *, reason: str = "closed", owner: str | None = None
    ) -> int:
        """End a session and delete its snapshot; returns its final position.

        While the server drains, a stream that ends (reason "stream_ended") only detaches
        its session: the drain saved it, so the client can resume it elsewhere."""
        with self._cond:
            session = self._live(session_id)
            _check_owner(session_id, session.owner, owner)
            position = session.position
            if self._draining and reason == "stream_ended":
                session.attached = False
                return position
            self._end(session, reason, NotFoundError(f"session '{session_id}' was closed"))
        with self._store_lock:
            self.store.delete(self.model, session_id)
        return position

    def detach(self, session_id: str) -> None:
        """The stream holding the session ended but the client asked to keep it."""
        with self._cond:
            session = self.table.get(session_id)
            if session is not None:
                session.attached = False
                session.last_active = time.monotonic()

    def info(self, session_id: str, owner: str | None = None) -> SessionInfo:
        with self._cond:
            session = self._live(session_id)
            _check_owner(session_id, session.owner, owner)
            return self._info(session)

    def live_sessions(self) -> int:
        with self._cond:
            return len(self.table)

    def drain_sessions(self, timeout: float) -> int:
        """Server shutdown: refuse new opens and chunks, let the queued and running ones
        finish (for up to `timeout` s), then snapshot every live session, kept or not,
        in one store transaction. Returns how many snapshots were written."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._draining = True
            while time.monotonic() < deadline and (
                self._queued or any(s.busy for s in self.table.sessions.values())
            ):
                self._cond.wait(0.01)
            sessions = [
                s for s in self.table.sessions.values()
                if s.slot >= 0 and not s.busy and s.position != s.snapshot_position
            ]
            snapshots = [self._snapshot(s) for s in sessions]
            self._save(snapshots)
            for session in sessions:
                session.snapshot_position = session.position
        return len(snapshots)

    # ---- lock held ----------------------------------------------------------
    def _check_running(self) -> None:
        self.refuse_if_stopping()
        if self._draining:
            raise DrainingError(DRAINING_MESSAGE)

    def _snapshot(self, session: Session, state: bytes | None = None) -> Snapshot:
        return Snapshot(
            self.model, session.id, self.version, session.position,
            self.pool.dump(session.slot) if state is None else state,
            session.outputs.encode(self._layout), session.owner,
        )

    def _live(self, session_id: str) -> Session:
        session = self.table.get(session_id)
        if session is None:
            raise NotFoundError(
                f"session '{session_id}' not found for model '{self.model}' (closed, expired "
                "or never opened; open it again to resume from its last snapshot)"
            )
        return session

    @property
    def _tick_snapshots(self) -> bool:
        # Per-tick snapshots only where they outlive the process; a memory store
        # still gets the snapshots of sessions leaving memory (evict, unload).
        return self.store.durable and self.config.sessions.snapshot != "on_evict"

    def _push_ready(self, session: Session) -> None:
        heapq.heappush(
            self._ready, (session.pending[0].enqueued, next(self._ready_order), session)
        )

    def _info(
        self, session: Session, *, resumed: bool = False, replay: ChunkResult | None = None,
        created: bool = False,
    ) -> SessionInfo:
        return SessionInfo(
            session.id, session.position, resumed, self.pool.row_bytes,
            len(session.pending), session.attached, replay, created,
        )

    def _end(self, session: Session, reason: str, error: BaseException) -> None:
        deliver([(chunk, error) for chunk in session.pending])
        self._queued -= len(session.pending)
        session.pending.clear()
        self.table.remove(session)
        metrics.SESSIONS_ENDED.labels(self.model, reason).inc()
        metrics.LIVE_SESSIONS.labels(self.model).set(len(self.table))

    # ---- the worker's part (scheduler thread) -------------------------------
    def schedule(self) -> TickBatch | None:
        now = time.monotonic()
        # The idle scan walks every session: do it a few times per timeout, not per tick.
        if now >= self._next_idle_scan:
            self._next_idle_scan = now + min(1.0, self.limits.idle_timeout_seconds / 4)
            self._evict_idle(now)
        batch: TickBatch = []
        while self._ready and len(batch) < self.max_rows:
            session = heapq.heappop(self._ready)[2]
            if session.closed or session.busy or not session.pending:
                continue  # ended while waiting (its chunks were failed by _end)
            chunk = session.pending[0]
            if chunk.deadline is not None and now >= chunk.deadline:
                self._expire_pending(session, now)
                continue
            session.busy = True
            batch.append((session, session.pending.popleft()))
        self._queued -= len(batch)
        # Once per tick, not per chunk: every submit wakes the loop into this call.
        metrics.QUEUE_DEPTH.labels(self.model).set(self._queued)
        return batch or None

    def _expire_pending(self, session: Session, now: float) -> None:
        """(lock held) The session's next chunk waited past its caller's deadline: fail
        it and every chunk queued behind it, since they were sent to follow it. Nothing
        ran, so the session stays where it was and the client may send them again."""
        chunks = list(session.pending)
        session.pending.clear()
        self._queued -= len(chunks)
        metrics.REJECTED.labels(self.model, "deadline_expired").inc(len(chunks))
        error = DeadlineExceededError(
            f"deadline passed after {now - chunks[0].enqueued:.3f}s in the queue; session "
            f"'{session.id}' did not move from position {session.position}: nothing of "
            f"this chunk (or the {len(chunks) - 1} queued behind it) was applied"
        )
        deliver([(chunk, error) for chunk in chunks])

    def wait_seconds(self) -> float | None:
        return min(1.0, self.limits.idle_timeout_seconds / 4)  # the idle scan's pace

    def execute(self, batch: TickBatch) -> Ticked:
        ticked = time.monotonic()
        queue_seconds = metrics.REQUEST_QUEUE_SECONDS.labels(self.model)
        for _, chunk in batch:
            queue_seconds.observe(ticked - chunk.enqueued)
        started = time.perf_counter()
        slots = np.array([s.slot for s, _ in batch], dtype=np.int64)
        lengths = np.array([c.steps for _, c in batch], dtype=np.int64)
        inputs = self.graph.pad([c.data for _, c in batch], int(lengths.max()))
        outputs, new_state = self.graph.run(inputs, lengths, self.pool.gather(slots))
        self.pool.scatter(slots, new_state)
        metrics.SESSION_STEP_SECONDS.labels(self.model).observe(time.perf_counter() - started)
        metrics.SESSION_TICK_ROWS.labels(self.model).observe(len(batch))
        self.ticks += 1
        return Ticked(outputs, ticked)

    def recover(self, batch: TickBatch | None, error: Exception) -> None:
        if batch is None:  # schedule() failed (an idle scan's snapshot write): retried later
            return
        with self._cond:
            self._finish(batch, time.monotonic())
        for _, chunk in batch:
            self.send(chunk.loop, chunk.sink, error)

    def shut_down(self) -> None:
        self._drain()

    def _evict_idle(self, now: float) -> None:
        timeout = self.limits.idle_timeout_seconds
        idle = [
            s for s in self.table.sessions.values()
            if not s.attached and not s.busy and not s.pending and now - s.last_active > timeout
        ]
        snapshots = [self._snapshot(s) for s in idle if s.position != s.snapshot_position]
        # Written before the ids are freed (and under the table lock): a client
        # reopening an evicted id at once must find this snapshot, not an older one.
        self._save(snapshots)
        for session in idle:
            self._end(session, "idle", NotFoundError(f"session '{session.id}' expired"))
        if idle:
            self._release_leases([s.id for s in idle])

    def update(self, batch: TickBatch, ticked_outputs: Ticked) -> None:
        outputs, ticked = ticked_outputs
        snapshotted, results = [], []
        policy = self.config.sessions
        every_chunk = policy.snapshot == "every_chunk"
        tick_snapshots = self._tick_snapshots
        keep = self.replay_steps
        if keep and self._layout is None:
            self._layout = OutputLayout.of(outputs)
        packed = self._layout.pack(outputs) if keep and self._layout is not None else None
        for row, (session, chunk) in enumerate(batch):
            first = session.position
            session.position += chunk.steps
            if packed is not None:
                session.outputs.append(first, chunk.steps, packed[row, : chunk.steps].tobytes(),
                                       keep)
            # After a resume below what the client had, the outputs it saw are not resent.
            skip = min(max(session.deliver_from - first, 0), chunk.steps)
            per_step = {n: out[row, skip : chunk.steps] for n, out in outputs.items()}
            results.append((chunk, ChunkResult(first + skip, session.position, per_step)))
            if tick_snapshots and (
                every_chunk
                or session.position - session.snapshot_position >= policy.every_n_steps
            ):
                snapshotted.append(session)
                session.snapshot_position = session.position
        if snapshotted:
            states = self.pool.dump_many([s.slot for s in snapshotted])
            snapshots = [
                self._snapshot(s, state) for s, state in zip(snapshotted, states, strict=True)
            ]
            # Committed before results go out: a client that saw the output of
            # position p can rely on a snapshot at >= p surviving a crash.
            fenced = self._save(snapshots, snapshotted)
            if fenced:
                results = self._fence_off(batch, results, fenced)
        done = time.monotonic()
        metrics.REQUEST_COMPUTE_SECONDS.labels(self.model).observe(done - ticked)
        inter_step = metrics.SESSION_INTER_STEP_SECONDS.labels(self.model)
        for session, _ in batch:
            inter_step.observe(done - session.last_result)
            session.last_result = done
        with self._cond:
            self._finish(batch, done)
        for chunk, outcome in results:
            self.send(chunk.loop, chunk.sink, outcome)

    def _fence_off(
        self, batch: TickBatch, results: list, fenced: list[Snapshot],
    ) -> list:
        """Sessions whose snapshot the store refused (another replica holds them now):
        end them here with the reason instead of handing out this tick's outputs."""
        ids = {snap.session_id for snap in fenced}
        errors = {
            sid: SessionOwnedElsewhereError(
                f"session '{sid}' of model '{self.model}' was taken over by another replica "
                "(this replica's lease expired); open it again to continue where the "
                "new owner is"
            ) for sid in ids
        }
        with self._cond:
            for session, _ in batch:
                if session.id in ids and not session.closed:
                    self._end(session, "lost_lease", errors[session.id])
        return [(chunk, errors[s.id] if s.id in ids else outcome)
                for (s, _), (chunk, outcome) in zip(batch, results, strict=True)]

    def _finish(self, batch: TickBatch, now: float) -> None:
        """(lock held) The run is over: free closed sessions' slots, queue the rest again."""
        woke = False
        for session, _ in batch:
            session.busy = False
            session.last_active = now
            if session.closed:
                self.table.release(session)
            elif session.pending:
                self._push_ready(session)
                woke = True
        if woke:
            self._cond.notify()

    def _release_leases(self, session_ids: list[str]) -> None:
        """Sessions left this replica: a shared store frees their leases at once."""
        release = getattr(self.store, "release", None)
        if release is None:
            return
        try:
            release(self.model, session_ids)
        except SeqServeError as exc:  # they expire on their own
            log.warning("could not release leases of %d session(s): %s", len(session_ids), exc)

    def _save(
        self, snapshots: list[Snapshot], sessions: list[Session] | None = None,
    ) -> list[Snapshot]:
        """Write one batch; with `sessions` (parallel to snapshots), skip closed ones.
        Returns the snapshots a fencing store refused (their lease is lost)."""
        if not snapshots:
            return []
        started = time.perf_counter()
        with self._store_lock:
            if sessions is not None:
                snapshots = [
                    snap for snap, s in zip(snapshots, sessions, strict=True) if not s.closed
                ]
            refused = self.store.save_many(snapshots) or []
        metrics.SNAPSHOT_SECONDS.labels(self.model).observe(time.perf_counter() - started)
        return refused

    def _drain(self) -> None:
        """Unload: snapshot every live session (so it resumes elsewhere), fail its chunks."""
        with self._cond:
            sessions = list(self.table.sessions.values())
            snapshots = [
                self._snapshot(s)
                for s in sessions if s.slot >= 0 and s.position != s.snapshot_position
            ]
            for session in sessions:
                self._end(session, "unloaded",
                          UnavailableError(f"model '{self.model}' was unloaded"))
        try:
            self._save(snapshots)
        except Exception:
            log.exception("could not snapshot sessions of %s on unload", self.model)
