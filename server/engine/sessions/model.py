"""A loaded streaming model: step graph + session scheduler + store, behind the
calls api/ makes (open / predict / close / info), with validation at the edge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.sessions.chunk_batch import ChunkBatch
from seqserve.server.engine.sessions.present import (  # noqa: F401 (re-exported)
    Candidate,
    Presenter,
    StepColumns,
    StepOutput,
)
from seqserve.server.engine.sessions.scheduler import SessionScheduler
from seqserve.server.engine.sessions.session_info import SessionInfo
from seqserve.server.engine.sessions.step_graph import StepGraph
from seqserve.server.engine.sessions.store import MemoryStore, SessionStore, SqliteStore
from seqserve.server.engine.sessions.table import Chunk, ChunkResult
from seqserve.server.errors import InvalidArgumentError, SeqServeError
from seqserve.server.repository.repository import ModelVersion
from seqserve.server.repository.streaming_config import StreamingConfig


class ChunkInput(NamedTuple):
    """One chunk as a client sends it: exactly one of the three is set."""

    values: list[float] | np.ndarray | None = None
    """Float inputs, step-major, `features` values per step."""
    tokens: list[int] | np.ndarray | None = None
    text: str | None = None
    """Token inputs as text: one step per character (unknown ones map to id 0)."""


@dataclass(frozen=True)
class PredictResult:
    session_id: str
    first_step: int
    position: int
    columns: StepColumns
    """The outputs per output kind (what the gRPC layer converts)."""
    raw: dict[str, np.ndarray]
    """Graph outputs [T,...] as computed (normalised units): exactness tests read these."""

    @cached_property
    def steps(self) -> list[StepOutput]:
        """The outputs step by step (made on first use)."""
        return Presenter.rows(self.columns)


def make_store(version: ModelVersion, config: StreamingConfig) -> SessionStore:
    spec = config.sessions
    if spec.store == "redis":
        from seqserve.server.engine.sessions.redis_store import RedisSessionStore

        return RedisSessionStore(
            spec.redis_url, lease_seconds=spec.lease_seconds,
            ttl_seconds=spec.ttl_seconds or 2 * config.limits.idle_timeout_seconds,
        )
    if spec.store == "sqlite":
        path = Path(spec.sqlite_path)
        return SqliteStore(
            path if path.is_absolute() else version.path / path,
            retention_seconds=spec.retention_seconds,
            max_rows=spec.max_snapshots or 4 * config.limits.max_sessions,
        )
    return MemoryStore(max_entries=4 * config.limits.max_sessions)


class StreamingModel:
    def __init__(
        self, version: ModelVersion, *, policy: str | None = None,
        available_versions: list[int] | None = None,
    ) -> None:
        config: StreamingConfig = version.config
        if policy in ("continuous", "sequential"):
            config = config.model_copy(
                update={"batching": config.batching.model_copy(update={"policy": policy})}
            )
        self.config = config
        self.name = version.name
        self.graph = StepGraph(version.path, config)
        self.store = make_store(version, config)
        self.scheduler = SessionScheduler(
            version.name, version.version, config, self.graph, self.store
        )
        spec = config.input
        self.vocabulary: list[str] = []
        if spec.type == "tokens" and spec.vocabulary:
            lines = (version.path / spec.vocabulary).read_text(encoding="utf-8").splitlines()
            self.vocabulary = [json.loads(line) for line in lines]
        self._index = {tok: i for i, tok in enumerate(self.vocabulary)}
        self._mean = np.asarray(spec.mean or [0.0] * spec.features, dtype=np.float64)
        self._std = np.asarray(spec.std or [1.0] * spec.features, dtype=np.float64)
        self.presenter = Presenter(config.present, self.vocabulary, self._mean, self._std)
        self.info = ModelInfo(
            name=version.name, version=version.version, kind=config.kind, config=config,
            providers=list(self.graph.providers),
            available_versions=list(available_versions or [version.version]),
            forecast_horizon=self.graph.graph.last_dim(config.present.forecast),
        )

    def start(self) -> None:
        self.scheduler.start()

    keep_store_open = False
    """Set when a successor version inherits this store (it closes it)."""

    def stop(self) -> None:
        self.scheduler.stop()
        if not self.keep_store_open:
            self.store.close()
        for store, _ in self.scheduler.inherited:
            if store is not self.store:
                store.close()

    # ---- sessions ------------------------------------------------------------
    def open(
        self, session_id: str | None = None, *, attach: bool = False,
        resume_from: int | None = None, owner: str | None = None,
        new_owner: str | None = None,
    ) -> SessionInfo:
        return self.scheduler.open(
            session_id, attach=attach, resume_from=resume_from, owner=owner,
            new_owner=new_owner,
        )

    def drain_sessions(self, timeout: float) -> int:
        """Server shutdown: finish queued chunks, snapshot every live session."""
        return self.scheduler.drain_sessions(timeout)

    def close(self, session_id: str, *, reason: str = "closed", owner: str | None = None) -> int:
        return self.scheduler.close(session_id, reason=reason, owner=owner)

    def detach(self, session_id: str) -> None:
        self.scheduler.detach(session_id)

    def session(self, session_id: str, owner: str | None = None) -> SessionInfo:
        return self.scheduler.info(session_id, owner)

    async def predict(
        self, session_id: str, chunk: ChunkInput, *, top_k: int = 0, owner: str | None = None,
        deadline: float | None = None,
    ) -> PredictResult:
        """Queue one chunk; resolves when the tick that ran it is done, or with
        DEADLINE_EXCEEDED (the session unmoved) if it is still queued at `deadline`."""
        top_k = self.check_top_k(top_k)
        owners = None if owner is None else [owner]
        (outcome,) = await self.submit_many([(session_id, chunk)], owners, deadline).future
        if isinstance(outcome, BaseException):
            raise outcome
        return self.result(session_id, outcome, top_k)

    def submit_many(
        self, items: Sequence[tuple[str, ChunkInput]],
        owners: Sequence[str | None] | None = None, deadline: float | None = None,
    ) -> ChunkBatch:
        """Validate and queue chunks of many sessions at once (one scheduler lock for
        all). The batch resolves once every item has its ChunkResult or the error that
        refused it alone."""
        loop = asyncio.get_running_loop()
        batch = ChunkBatch(loop, len(items))
        accepted: list[tuple[int, str, Chunk]] = []
        checked = owners is not None and any(o is not None for o in owners)
        for index, (session_id, chunk) in enumerate(items):
            try:
                data = self.validate(chunk)
            except SeqServeError as exc:
                batch.settle(index, exc)
                continue
            accepted.append((index, session_id, Chunk(data, batch.sink(index), loop, deadline)))
        refused = self.scheduler.submit_many(
            [(sid, chunk) for _, sid, chunk in accepted],
            [owners[i] for i, _, _ in accepted] if checked and owners is not None else None,
        )
        for (index, _, _), error in zip(accepted, refused, strict=True):
            if error is not None:
                batch.settle(index, error)
        return batch

    def result(self, session_id: str, chunk: ChunkResult, top_k: int) -> PredictResult:
        return PredictResult(
            session_id, chunk.first_step, chunk.position,
            self.presenter.columns(chunk.outputs, top_k), chunk.outputs,
        )

    # ---- validation and presentation -----------------------------------------
    def check_top_k(self, top_k: int) -> int:
        """0 = every candidate the graph returns; more than it returns is an error."""
        if top_k < 0:
            raise InvalidArgumentError(f"top_k must be >= 0, got {top_k}")
        most = self.config.present.top_k
        if top_k > most:
            raise InvalidArgumentError(f"top_k={top_k} exceeds the model's {most} candidates")
        return top_k

    def validate(self, chunk: ChunkInput) -> np.ndarray:
        spec, limit = self.config.input, self.config.limits.max_chunk_steps
        given = [n for n in ("values", "tokens", "text") if getattr(chunk, n) is not None]
        if len(given) != 1:
            raise InvalidArgumentError(
                f"a chunk carries exactly one of values, tokens or text (got {given or 'none'})"
            )
        if spec.type == "float":
            if chunk.values is None:
                raise InvalidArgumentError(
                    f"model '{self.name}' takes float values ({spec.features} per step), "
                    f"not {given[0]}"
                )
            values = np.asarray(chunk.values, dtype=np.float64).reshape(-1)
            if values.size % spec.features:
                raise InvalidArgumentError(
                    f"{values.size} values is not a whole number of steps of "
                    f"{spec.features} features"
                )
            steps = values.size // spec.features
            self._check_steps(steps, limit)
            if not np.isfinite(values).all():
                bad = int(np.flatnonzero(~np.isfinite(values))[0])
                raise InvalidArgumentError(f"values[{bad}] is {values[bad]} (NaN or infinite)")
            normalised = (values.reshape(steps, spec.features) - self._mean) / self._std
            return normalised.astype(np.float32)
        if chunk.text is not None:
            ids_list = [self._index.get(ch, 0) for ch in chunk.text]
        elif chunk.tokens is not None:
            ids_list = (chunk.tokens.reshape(-1).tolist() if isinstance(chunk.tokens, np.ndarray)
                        else chunk.tokens)
        else:
            raise InvalidArgumentError(
                f"model '{self.name}' takes tokens or text, not float values"
            )
        self._check_steps(len(ids_list), limit)
        # Plain Python on the list: chunks are a few steps, where numpy's
        # per-call overhead costs more than the check itself.
        if min(ids_list) < 0 or max(ids_list) >= spec.vocab_size:
            bad = next(t for t in ids_list if not 0 <= t < spec.vocab_size)
            raise InvalidArgumentError(
                f"token id {bad} is outside the vocabulary [0, {spec.vocab_size})"
            )
        return np.array(ids_list, dtype=np.int64)

    @staticmethod
    def _check_steps(steps: int, limit: int) -> None:
        if steps == 0:
            raise InvalidArgumentError("empty chunk: send at least one step")
        if steps > limit:
            raise InvalidArgumentError(f"chunk of {steps} steps exceeds max_chunk_steps={limit}")
