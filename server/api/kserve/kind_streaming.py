"""Streaming (stateful) models over KServe v2, as Triton sequence models.

A sequence is a session of the streaming engine: the request with
sequence_start opens one (a fresh state), every request of the sequence runs
one chunk on it, sequence_end closes it after its chunk. Inputs per the
model's input type, one chunk per request (no batch dimension):

    INPUT   FP32  [T, features]  float models
    TOKENS  INT64 [T]            token models    } exactly one of them
    TEXT    BYTES [1]            token models, one step per character }
    FORECAST    FP64  [T, k]     when the model forecasts (denormalised)
    TOP_IDS     INT64 [T, K]     when the model ranks next tokens
    TOP_PROBS   FP32  [T, K]
    SURPRISE    FP32  [T]        bits, when the model reports it (NaN = none)

Parameter top_k (default all) limits K, as in the domain API's Predict.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import numpy as np

from seqserve.server.api.caller import current_namespace
from seqserve.server.api.kserve.kind_seq2seq import decode_text
from seqserve.server.api.kserve.kinds import InferCall, InferOutcome, Signature, TensorSpec
from seqserve.server.api.kserve.tensors import Tensor
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.errors import InvalidArgumentError, NotFoundError
from seqserve.server.kinds import STREAMING, StreamingHandle

SWEEP_SECONDS = 1.0
"""How often a model's sequence map drops sequences whose session the engine ended
(idle timeout, eviction): without it the map grows with every sequence ever started."""

INPUT, TOKENS, TEXT = "INPUT", "TOKENS", "TEXT"
FORECAST, TOP_IDS, TOP_PROBS, SURPRISE = "FORECAST", "TOP_IDS", "TOP_PROBS", "SURPRISE"


class StreamingAdapter:
    platform = STREAMING.platform

    def __init__(self) -> None:
        # (caller namespace, model, sequence key) -> engine session id. Sessions
        # are per model, so two models may use the same sequence id without
        # meeting; and per caller (its credential, else its host: caller.py), so
        # one client cannot continue or end another's sequence.
        self._sequences: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._last_sweep: dict[str, float] = {}

    def signature(self, info: ModelInfo) -> Signature:
        config = info.config
        spec, present = config.input, config.present
        if spec.type == "float":
            steps = config.limits.max_chunk_steps
            inputs: tuple[TensorSpec, ...] = (
                TensorSpec(INPUT, "FP32", (-1, spec.features), max_variable=steps,
                           limit="max_chunk_steps"),
            )
        else:
            inputs = (
                TensorSpec(TOKENS, "INT64", (-1,), optional=True,
                           max_variable=config.limits.max_chunk_steps, limit="max_chunk_steps"),
                TensorSpec(TEXT, "BYTES", (1,), optional=True),
            )
        outputs = []
        if present.forecast:
            outputs.append(TensorSpec(FORECAST, "FP64", (-1, -1)))
        if present.top_ids:
            outputs += [
                TensorSpec(TOP_IDS, "INT64", (-1, -1)), TensorSpec(TOP_PROBS, "FP32", (-1, -1)),
            ]
        if present.surprise:
            outputs.append(TensorSpec(SURPRISE, "FP32", (-1,)))
        return Signature(
            inputs=inputs, outputs=tuple(outputs), max_batch_size=0, sequence=True,
            idle_timeout_us=int(config.limits.idle_timeout_seconds * 1_000_000),
        )

    def _chunk(self, call: InferCall) -> Any:
        from seqserve.server.engine.sessions.model import ChunkInput

        given = [name for name in (INPUT, TOKENS, TEXT) if name in call.inputs]
        if len(given) != 1:
            raise InvalidArgumentError(
                f"send exactly one input per request (got {given or 'none'})"
            )
        tensor = call.inputs[given[0]]
        if given[0] == INPUT:
            return ChunkInput(values=tensor.data.astype(np.float64).reshape(-1))
        if given[0] == TOKENS:
            return ChunkInput(tokens=tensor.data.astype(np.int64).reshape(-1))
        texts = decode_text(tensor)
        if len(texts) != 1:
            raise InvalidArgumentError(
                f"input '{TEXT}' carries one chunk of text, got {len(texts)}"
            )
        return ChunkInput(text=texts[0])

    def _session(self, handle: StreamingHandle, call: InferCall) -> str:
        model = handle.info.name
        if call.sequence_key is None:
            raise InvalidArgumentError(
                f"inference request to model '{model}' must specify a non-zero or non-empty "
                f"correlation ID"
            )
        key = (current_namespace(), model, call.sequence_key)
        self._sweep(handle)
        with self._lock:
            known = self._sequences.get(key)
        if known is not None and not call.sequence_start and not _alive(handle, known):
            self._drop(key, known)
            raise InvalidArgumentError(
                f"sequence {call.sequence_key} of model '{model}' was ended by the server "
                f"(idle timeout); start it again with the START flag"
            )
        if call.sequence_start:
            if known is not None:  # a restart: Triton drops the old sequence's state
                self._close(handle, key, known)
            session = handle.open(None).session_id
            with self._lock:
                self._sequences[key] = session
            return session
        if known is None:
            raise InvalidArgumentError(
                f"inference request for sequence {call.sequence_key} to model '{model}' must "
                f"specify the START flag on the first request of the sequence"
            )
        return known

    def _sweep(self, handle: StreamingHandle) -> None:
        model, now = handle.info.name, time.monotonic()
        with self._lock:
            if now - self._last_sweep.get(model, 0.0) < SWEEP_SECONDS:
                return
            self._last_sweep[model] = now
            entries = [(k, sid) for k, sid in self._sequences.items() if k[1] == model]
        for key, session in entries:
            if not _alive(handle, session):
                self._drop(key, session)

    def _drop(self, key: tuple[str, str, str], session: str) -> None:
        with self._lock:
            if self._sequences.get(key) == session:
                del self._sequences[key]

    def sequences(self) -> int:
        with self._lock:
            return len(self._sequences)

    def _close(self, handle: StreamingHandle, key: tuple[str, str, str], session: str) -> None:
        self._drop(key, session)
        # Already gone (idle timeout, unload) is fine: nothing left to free.
        with contextlib.suppress(Exception):
            handle.close(session, reason="sequence_end")

    async def infer(self, handle: StreamingHandle, call: InferCall) -> InferOutcome:
        chunk = self._chunk(call)
        top_k = call.params.int("top_k") or 0
        session = self._session(handle, call)
        key = (current_namespace(), handle.info.name, call.sequence_key or "")
        try:
            result = await handle.predict(session, chunk, top_k=top_k, deadline=call.deadline)
        except BaseException:
            if call.sequence_start or call.sequence_end:
                self._close(handle, key, session)
            raise
        if call.sequence_end:
            self._close(handle, key, session)
        outputs = self._outputs(handle.info, result.steps)
        return InferOutcome(outputs, rows=1)

    @staticmethod
    def _outputs(info: ModelInfo, steps: list[Any]) -> list[Tensor]:
        present = info.config.present
        out: list[Tensor] = []
        if present.forecast:
            forecast = np.asarray([s.forecast for s in steps], np.float64)
            out.append(Tensor(FORECAST, "FP64", forecast))
        if present.top_ids:
            width = max((len(s.candidates) for s in steps), default=0)
            ids = np.full((len(steps), width), -1, dtype=np.int64)
            probs = np.zeros((len(steps), width), dtype=np.float32)
            for t, step in enumerate(steps):
                ids[t, : len(step.candidates)] = [c.id for c in step.candidates]
                probs[t, : len(step.candidates)] = [c.prob for c in step.candidates]
            out += [Tensor(TOP_IDS, "INT64", ids), Tensor(TOP_PROBS, "FP32", probs)]
        if present.surprise:
            bits = [np.nan if s.surprise_bits is None else s.surprise_bits for s in steps]
            out.append(Tensor(SURPRISE, "FP32", np.asarray(bits, dtype=np.float32)))
        return out

    def forget(self, model: str) -> None:
        self._last_sweep.pop(model, None)
        with self._lock:
            for key in [k for k in self._sequences if k[1] == model]:
                del self._sequences[key]


def _alive(handle: StreamingHandle, session: str) -> bool:
    try:
        handle.session(session)
    except NotFoundError:
        return False
    return True
