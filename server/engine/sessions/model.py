"""A loaded streaming model: step graph + session scheduler + store, behind the
calls api/ makes (open / predict / close / info), with validation at the edge."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.sessions.scheduler import SessionInfo, SessionScheduler
from seqserve.server.engine.sessions.step_graph import StepGraph
from seqserve.server.engine.sessions.store import MemoryStore, SessionStore, SqliteStore
from seqserve.server.engine.sessions.table import Chunk, ChunkResult
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.repository.repository import ModelVersion
from seqserve.server.repository.streaming_config import StreamingConfig


@dataclass(frozen=True)
class ChunkInput:
    """One chunk as a client sends it: exactly one of the three is set."""

    values: list[float] | np.ndarray | None = None
    """Float inputs, step-major, `features` values per step."""
    tokens: list[int] | np.ndarray | None = None
    text: str | None = None
    """Token inputs as text: one step per character (unknown ones map to id 0)."""


@dataclass(frozen=True)
class Candidate:
    token: str
    id: int
    prob: float


@dataclass(frozen=True)
class StepOutput:
    forecast: list[float] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    surprise_bits: float | None = None


@dataclass(frozen=True)
class PredictResult:
    session_id: str
    first_step: int
    position: int
    steps: list[StepOutput]
    raw: dict[str, np.ndarray]
    """Graph outputs [T,...] as computed (normalised units): exactness tests read these."""


def make_store(version: ModelVersion, config: StreamingConfig) -> SessionStore:
    spec = config.sessions
    if spec.store == "sqlite":
        path = Path(spec.sqlite_path)
        return SqliteStore(path if path.is_absolute() else version.path / path)
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
        self.info = ModelInfo(
            name=version.name, version=version.version, kind=config.kind, config=config,
            providers=list(self.graph.providers),
            available_versions=list(available_versions or [version.version]),
        )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.store.close()

    # ---- sessions ------------------------------------------------------------
    def open(self, session_id: str | None = None, *, attach: bool = False) -> SessionInfo:
        return self.scheduler.open(session_id, attach=attach)

    def close(self, session_id: str, *, reason: str = "closed") -> int:
        return self.scheduler.close(session_id, reason=reason)

    def detach(self, session_id: str) -> None:
        self.scheduler.detach(session_id)

    def session(self, session_id: str) -> SessionInfo:
        return self.scheduler.info(session_id)

    async def predict(self, session_id: str, chunk: ChunkInput, *, top_k: int = 0) -> PredictResult:
        """Queue one chunk; resolves when the tick that ran it is done."""
        data = self.validate(chunk)
        top_k = self.check_top_k(top_k)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ChunkResult] = loop.create_future()

        def settle(outcome: ChunkResult | BaseException) -> None:  # runs on `loop`
            if future.done():  # the caller went away; the step still ran
                return
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        self.scheduler.submit(session_id, Chunk(data, settle, loop))
        result = await future
        return PredictResult(
            session_id, result.first_step, result.position,
            self.present(result.outputs, top_k), result.outputs,
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
            ids = np.fromiter((self._index.get(ch, 0) for ch in chunk.text), dtype=np.int64)
        elif chunk.tokens is not None:
            ids = np.asarray(chunk.tokens, dtype=np.int64).reshape(-1)
        else:
            raise InvalidArgumentError(
                f"model '{self.name}' takes tokens or text, not float values"
            )
        self._check_steps(int(ids.size), limit)
        if ((ids < 0) | (ids >= spec.vocab_size)).any():
            bad = int(ids[(ids < 0) | (ids >= spec.vocab_size)][0])
            raise InvalidArgumentError(
                f"token id {bad} is outside the vocabulary [0, {spec.vocab_size})"
            )
        return ids

    @staticmethod
    def _check_steps(steps: int, limit: int) -> None:
        if steps == 0:
            raise InvalidArgumentError("empty chunk: send at least one step")
        if steps > limit:
            raise InvalidArgumentError(f"chunk of {steps} steps exceeds max_chunk_steps={limit}")

    def present(self, outputs: dict[str, np.ndarray], top_k: int) -> list[StepOutput]:
        spec = self.config.present
        steps = next(iter(outputs.values())).shape[0]
        forecast = None
        if spec.forecast:
            # Denormalise in float64: the graph's float32 is exact to ~1e-6 in
            # normalised units, and the scale should not add rounding on top.
            forecast = outputs[spec.forecast].astype(np.float64) * self._std[0] + self._mean[0]
        # Lists once per chunk: per-element numpy scalar access is the slow path.
        ids_all = outputs[spec.top_ids].tolist() if spec.top_ids else None
        probs_all = outputs[spec.top_probs].tolist() if spec.top_ids else None
        surprise_all = outputs[spec.surprise].tolist() if spec.surprise else None
        forecast_all = forecast.tolist() if forecast is not None else None
        vocab = self.vocabulary
        result = []
        for t in range(steps):
            candidates = []
            if ids_all is not None and probs_all is not None:
                ids, probs = ids_all[t], probs_all[t]
                count = len(ids) if top_k == 0 else min(top_k, len(ids))
                candidates = [
                    Candidate(vocab[i] if i < len(vocab) else "", i, p)
                    for i, p in zip(ids[:count], probs[:count], strict=True)
                ]
            surprise = surprise_all[t] if surprise_all is not None else None
            result.append(StepOutput(
                forecast=forecast_all[t] if forecast_all is not None else [],
                candidates=candidates,
                surprise_bits=None if surprise is None or math.isnan(surprise) else surprise,
            ))
        return result
