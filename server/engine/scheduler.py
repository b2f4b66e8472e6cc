"""The decode loop of one seq2seq model, on its own thread (an EngineWorker).

Each iteration: schedule() drops cancelled or expired work and admits queued
jobs -> execute() runs their encoder pass, joins them to the batch and runs one
decoder step over every live row -> update() runs beam selection, hands
finished sentences back and retires them. The batching policy only changes
what schedule() admits: continuous admits whenever there is room
(iteration-level batching); static waits for the batch to drain; sequential
admits one job at a time.
"""

from __future__ import annotations

import collections
import logging
import math
import time
from typing import Any, NamedTuple

import numpy as np

from seqserve.server import metrics
from seqserve.server.engine import beam_search
from seqserve.server.engine.admission import BatchState, LatencyAdmission, Newcomer
from seqserve.server.engine.decode_batch import DecodeBatch
from seqserve.server.engine.job import DecodeJob, Event, PartialEvent
from seqserve.server.engine.live_sentence import LiveSentence
from seqserve.server.engine.rule_step import step_with_rules
from seqserve.server.engine.seq2seq_graphs import EncoderOutput, Seq2SeqGraphs
from seqserve.server.engine.worker import EngineWorker
from seqserve.server.errors import (
    CancelledError,
    DeadlineExceededError,
    ResourceExhaustedError,
    UnavailableError,
)
from seqserve.server.repository.config import BatchingConfig

log = logging.getLogger(__name__)


class Stepped(NamedTuple):
    """One decoder step's graph outputs, and when the step began (perf_counter)."""

    out: Any
    started: float


EncodedGroup = tuple[list[DecodeJob], EncoderOutput]
"""Jobs whose encoder pass succeeded together, and its output."""


class DecodeScheduler(EngineWorker[list[DecodeJob], Stepped | None]):
    """Plan: the jobs admitted this iteration (they join the live batch).
    Outputs: the decoder step over the batch, None when no row is live."""

    def __init__(
        self,
        model: str,
        graphs: Seq2SeqGraphs,
        batching: BatchingConfig,
        *,
        bos_id: int,
        eos_id: int,
        vocab_size: int,
    ) -> None:
        super().__init__(model, f"decode-{model}")
        self.model = model
        self.graphs = graphs
        self.batching = batching
        self.eos_id = eos_id
        self.vocab_size = vocab_size
        self.batch = DecodeBatch(
            bos_id=bos_id, memory_dim=graphs.memory_dim, layers=graphs.layers,
            hidden=graphs.hidden,
        )
        self._queue: collections.deque[DecodeJob] = collections.deque()
        self._queued_sentences = 0
        self._queued_rows = 0
        self.steps = 0
        self._labels = {"model": model}
        metrics.QUEUE_CAPACITY.labels(model).set(batching.max_queue)
        metrics.REJECTED.labels(model, "queue_full")  # exists at 0: rate() has data before any
        self.admission = LatencyAdmission()
        """Measured costs: requests that cannot meet their deadline are refused."""
        self._tolerance = math.inf
        """(scheduler thread writes, submit reads) admission.BatchState.tolerance."""
        self._iteration_started = 0.0
        self._last_update_end: float | None = None

    # ---- public, any thread -------------------------------------------------
    def idle(self) -> bool:
        """No job queued or decoding: a retired version may stop without failing any."""
        with self._cond:
            return not self._queue and not self.batch.sentences and not self._busy

    def submit(self, job: DecodeJob) -> None:
        """Queue a job or raise ResourceExhaustedError at once when the queue is full."""
        with self._cond:
            self.refuse_if_stopping()
            try:
                job.predicted_seconds = self.admission.check(self._state(), self._newcomer(job),
                                                             self.model)
            except DeadlineExceededError:
                metrics.REJECTED.labels(self.model, "deadline_unmeetable").inc()
                raise
            if self._queued_sentences + len(job.sources) > self.batching.max_queue:
                metrics.REJECTED.labels(self.model, "queue_full").inc()
                raise ResourceExhaustedError(
                    f"model '{self.model}' queue is full ({self.batching.max_queue} sentences, "
                    "max_queue); retry later"
                )
            self._queue.append(job)
            self._queued_sentences += len(job.sources)
            self._queued_rows += len(job.sources) * job.options.rows
            metrics.QUEUE_DEPTH.labels(self.model).set(self._queued_sentences)
            self._cond.notify()

    accept = submit
    """waiting.submitted's name for it."""

    def _state(self) -> BatchState:
        """(lock held) The load a newcomer joins."""
        return BatchState(
            live_sentences=len(self.batch), live_rows=self.batch.rows,
            queued_sentences=self._queued_sentences, queued_rows=self._queued_rows,
            max_sentences=self.batching.max_live_sentences, max_rows=self.batching.max_rows,
            tolerance=self._tolerance,
        )

    @staticmethod
    def _newcomer(job: DecodeJob) -> Newcomer:
        options = job.options
        return Newcomer(sentences=len(job.sources), rows_per_sentence=options.rows,
                        min_length=options.min_length, max_length=options.max_length,
                        deadline=job.deadline)

    def abandon(self, job: DecodeJob) -> None:
        """The caller went away (cancelled RPC, closed generator): free the job's rows."""
        if job.remaining and not job.failed:
            job.cancel()
            self.wake()

    # ---- the worker's part (scheduler thread) -------------------------------
    def schedule(self) -> list[DecodeJob] | None:
        if not self._queue and not self.batch.sentences:
            return None
        self._drop_aborted()
        self._iteration_started = time.perf_counter()
        return self._admit()

    def execute(self, admitted: list[DecodeJob]) -> Stepped | None:
        if admitted:
            self._encode_and_join(admitted)
        metrics.LIVE_SENTENCES.labels(self.model).set(len(self.batch))
        if not self.batch.sentences:
            return None
        return self._step()

    def update(self, admitted: list[DecodeJob], stepped: Stepped | None) -> None:
        if stepped is None:
            return
        out, started = stepped
        self._update(out.topk_logprobs, out.topk_ids, out.h_out, out.c_out,
                     getattr(out, "attention", None))
        self._record_iteration(out.topk_ids.shape[0])
        self.steps += 1
        metrics.BATCH_ROWS.labels(self.model).observe(out.topk_ids.shape[0])
        metrics.DECODE_STEP_SECONDS.labels(self.model).observe(time.perf_counter() - started)
        # Finished sentences just left: without this the gauge kept the last
        # admission's count while the loop sat idle (dashboards showed phantom work).
        metrics.LIVE_SENTENCES.labels(self.model).set(len(self.batch))

    def recover(self, admitted: list[DecodeJob] | None, error: Exception) -> None:
        # The batch's state is suspect after a failed step: fail the live work and the
        # queue, and the jobs admitted this iteration (one whose join to the batch
        # raised may be in neither: without this it would never hear back).
        for job in admitted or []:
            self._fail(job, error)
        self._fail_all(error)

    def shut_down(self) -> None:
        self._fail_all(UnavailableError(f"model '{self.model}' was unloaded"))

    # ---- helpers (scheduler thread) ------------------------------------------
    def _emit(self, job: DecodeJob, event: Event) -> None:
        self.send(job.loop, job.sink, event)

    def _fail(self, job: DecodeJob, error: BaseException) -> None:
        event = job.fail(error)
        if event is not None:
            self.send(job.loop, job.sink, event)

    def _fail_all(self, error: BaseException) -> None:
        for sentence in self.batch.sentences:
            self._fail(sentence.job, error)
        self.batch.remove(set(range(len(self.batch))))
        with self._cond:
            queued = list(self._queue)
            self._queue.clear()
            self._queued_sentences = 0
            self._queued_rows = 0
        for job in queued:
            self._fail(job, error)

    def _admit(self) -> list[DecodeJob]:
        """(lock held) Pop the jobs that join the batch this iteration."""
        policy = self.batching.policy
        if policy != "continuous" and self.batch.sentences:
            return []
        admitted: list[DecodeJob] = []
        live = len(self.batch)
        rows = self.batch.rows
        encoded = 0
        now = time.monotonic()
        tolerance = self._tolerance
        while self._queue:
            job = self._queue[0]
            if job.cancelled or job.expired(now):
                self._queue.popleft()
                self._queued_sentences -= len(job.sources)
                self._queued_rows -= len(job.sources) * job.options.rows
                self._abort_queued(job, now)
                continue
            n = len(job.sources)
            need_rows = n * job.options.rows
            grown = self.admission.cost.seconds(rows + need_rows)
            fits = (
                live + n <= self.batching.max_live_sentences
                and rows + need_rows <= self.batching.max_rows
                and encoded + n <= self.batching.max_encoder_batch
                # Goodput: no row that would slow the batch past a live sentence's deadline.
                and (grown is None or grown <= tolerance)
            )
            # An oversized job still runs when it would be alone.
            if not fits and (live or admitted):
                break
            self._queue.popleft()
            self._queued_sentences -= n
            self._queued_rows -= need_rows
            tolerance = min(tolerance, self._job_tolerance(job, now))
            job.admitted_at = now
            metrics.REQUEST_QUEUE_SECONDS.labels(self.model).observe(now - job.submitted_at)
            admitted.append(job)
            live, rows, encoded = live + n, rows + need_rows, encoded + n
            if policy == "sequential":
                break
        metrics.QUEUE_DEPTH.labels(self.model).set(self._queued_sentences)
        return admitted

    def _job_tolerance(self, job: DecodeJob, now: float, steps_done: int = 0) -> float:
        options = job.options
        return self.admission.tolerance(job.deadline, steps_done, options.min_length,
                                        options.max_length, now)

    def _record_iteration(self, rows: int) -> None:
        """Feed admission: this iteration's wall time at `rows`, and the slowest
        iteration the live sentences can still afford."""
        end = time.perf_counter()
        # Back to back with the last one, an iteration also pays the wait between
        # them (delivery, the lock, the GIL), as its sentences do.
        start = self._last_update_end if self._last_update_end is not None \
            else self._iteration_started
        self.admission.cost.record(rows, end - start)
        now = time.monotonic()
        # A sentence that cannot afford even this iteration's cost misses its deadline
        # whatever is admitted: protecting it would only starve the queue (seen: one
        # doomed sentence held 40 queued requests while the batch drained to 1).
        affordable = self.admission.cost.seconds(rows) or 0.0
        tolerance = math.inf
        for sentence in self.batch.sentences:
            own = self._job_tolerance(sentence.job, now, sentence.step)
            if affordable <= own < tolerance:
                tolerance = own
        self._tolerance = tolerance
        self._last_update_end = end if self.batch.sentences else None

    def _abort_queued(self, job: DecodeJob, now: float) -> None:
        reason = "deadline" if job.expired(now) else "cancelled"
        metrics.ABORTED_SENTENCES.labels(self.model, reason).inc(len(job.sources))
        if reason == "cancelled":
            self._fail(job, CancelledError("request cancelled by the client"))
        else:
            self._fail(job, DeadlineExceededError(
                f"deadline exceeded after {now - job.submitted_at:.3f}s in the queue"
            ))

    def _encode_and_join(self, jobs: list[DecodeJob]) -> None:
        # An encoder pass that raises has not touched the live batch, so it fails only
        # the requests it was for: sentences already decoding keep going (a lone bad
        # request used to take its live batch-mates down through recover()). A failure
        # joining the batch still propagates: the batch itself is suspect then.
        for group, encoded in self._encode_isolating(jobs):
            self._join(group, encoded)

    def _encode_isolating(self, jobs: list[DecodeJob]) -> list[EncodedGroup]:
        try:
            return [(jobs, self._encode(jobs))]
        except Exception as exc:
            if len(jobs) == 1:
                self._fail_encoding(jobs[0], exc)
                return []
        # Retry one by one to find the request that breaks the pass.
        encoded: list[EncodedGroup] = []
        for job in jobs:
            try:
                encoded.append(([job], self._encode([job])))
            except Exception as exc:
                self._fail_encoding(job, exc)
        return encoded

    def _fail_encoding(self, job: DecodeJob, error: Exception) -> None:
        log.exception("encoder failed for one request of model %s", self.model, exc_info=error)
        self._fail(job, error)

    def _encode(self, jobs: list[DecodeJob]) -> EncoderOutput:
        sources = [s for job in jobs for s in job.sources]
        started = time.perf_counter()
        encoded = self.graphs.encode(sources)
        metrics.ENCODE_SECONDS.labels(self.model).observe(time.perf_counter() - started)
        metrics.ENCODER_BATCH.labels(self.model).observe(len(sources))
        return encoded

    def _join(self, jobs: list[DecodeJob], encoded: EncoderOutput) -> None:
        sentences = [
            LiveSentence(job=job, index=i, beam=job.options.rows, source_length=0)
            for job in jobs
            for i in range(len(job.sources))
        ]
        for sentence, memory in zip(sentences, encoded.memories, strict=True):
            # Memory length, not input length: a captioner's input is an image.
            sentence.source_length = int(memory.shape[0])
        self.batch.add(sentences, encoded.memories, encoded.init_h, encoded.init_c)

    def _drop_aborted(self) -> None:
        now = time.monotonic()
        leaving: set[int] = set()
        for position, sentence in enumerate(self.batch.sentences):
            job = sentence.job
            # grpc cancels the RPC when its deadline passes, so an expired job
            # counts as a deadline even if the cancel arrived first.
            if job.expired(now):
                reason = "deadline"
            elif job.cancelled:
                reason = "cancelled"
            elif job.failed:
                reason = "failed"
            else:
                continue
            leaving.add(position)
            metrics.ABORTED_SENTENCES.labels(self.model, reason).inc()
            if reason == "cancelled":
                self._fail(job, CancelledError("request cancelled by the client"))
            elif reason == "deadline":
                self._fail(job, DeadlineExceededError(
                    f"deadline exceeded after {now - job.submitted_at:.3f}s "
                    f"({sentence.step} decode steps done)"
                ))
        self.batch.remove(leaving)

    def _step(self) -> Stepped:
        started = time.perf_counter()
        batch = self.batch
        max_beam = max(s.beam for s in batch.sentences)
        # Rules (sampling, penalties, prefixes) need every token's log prob:
        # the graph's TopK then returns the whole sorted row for this step.
        full = any(s.uses_rules for s in batch.sentences)
        k = self.vocab_size if full else min(2 * max_beam, self.vocab_size)
        want_attention = any(s.job.options.return_attention for s in batch.sentences)
        out = self.graphs.step(
            batch.prev_tokens, batch.h, batch.c, batch.memory, batch.memory_mask,
            batch.memory_index, k, **({"attention": True} if want_attention else {}),
        )
        return Stepped(out, started)

    def _update(
        self, topk_lp: np.ndarray, topk_ids: np.ndarray, h_out: np.ndarray, c_out: np.ndarray,
        attention: np.ndarray | None = None,
    ) -> None:
        batch = self.batch
        sentences = batch.sentences
        parents = np.empty(batch.rows, np.int64)
        tokens = np.empty(batch.rows, np.int64)
        scores = np.empty(batch.rows, np.float64)
        # The attention of each new row is kept only for requests that asked for it.
        attention = attention if attention is not None and any(
            s.job.options.return_attention for s in sentences) else None

        for group in batch.beam_groups:
            positions, rows = group.positions, group.rows
            picked = beam_search.select(
                batch.cumulative[rows],
                topk_lp[rows],
                topk_ids[rows],
                beam=group.beam,
                eos_id=self.eos_id,
                eos_allowed=batch.steps[positions] >= batch.min_lengths[positions],
            )
            for s, parent, score in zip(
                picked.finished_sentence.tolist(), picked.finished_parent.tolist(),
                picked.finished_score.tolist(), strict=True,
            ):
                sentences[positions[s]].add_finished(parent, score)
            flat_rows = rows.reshape(-1)
            parents[flat_rows] = np.take_along_axis(rows, picked.parents, axis=1).reshape(-1)
            tokens[flat_rows] = picked.tokens.reshape(-1)
            scores[flat_rows] = picked.scores.reshape(-1)
            for position, local, picked_tokens in zip(
                positions.tolist(), picked.parents, picked.tokens, strict=True
            ):
                sentence = sentences[position]
                if attention is not None:
                    self._record_attention(sentence, int(batch.offsets[position]), local,
                                           attention)
                sentence.advance(local, picked_tokens)

        for position in batch.rule_positions.tolist():
            sentence = sentences[position]
            offset = int(batch.offsets[position])
            rows = slice(offset, offset + sentence.beam)
            local, picked_tokens, picked_scores = step_with_rules(
                sentence, batch.cumulative[rows], topk_lp[rows], topk_ids[rows],
                vocab=self.vocab_size, eos_id=self.eos_id,
            )
            parents[rows] = offset + local
            tokens[rows] = picked_tokens
            scores[rows] = picked_scores
            self._record_attention(sentence, offset, local, attention)
            sentence.advance(local, picked_tokens)

        # Who stops is decided on the new scores before the state is reordered, so
        # the sentences that leave are dropped in the same gather as the reorder.
        leaving = self._retire_finished(scores)
        batch.reorder(parents, tokens, scores, h_out, c_out, leaving)

    def _record_attention(
        self, sentence: LiveSentence, offset: int, local_parents: np.ndarray,
        attention: np.ndarray | None,
    ) -> None:
        """Keep the attention that produced each new row's token (return_attention only)."""
        if attention is None or not sentence.job.options.return_attention:
            return
        weights = attention[offset + local_parents, : sentence.source_length]
        sentence.attention.append(weights.astype(np.float32, copy=True))

    def _retire_finished(self, scores: np.ndarray) -> set[int]:
        """Hand back the sentences that stop after this step; their positions, to
        leave the batch. scores: [rows] cumulative score of each new row."""
        batch = self.batch
        leaving: set[int] = set()
        for position, sentence in enumerate(batch.sentences):
            if sentence.result is not None:
                continue  # static policy: finished, kept as a padding row
            job = sentence.job
            may_stop = sentence.may_stop
            if not (may_stop or job.want_partials):
                continue  # most sentences, most steps: no slice, no check
            offset = int(batch.offsets[position])
            alive = scores[offset : offset + sentence.beam]
            if may_stop and sentence.done(alive):
                sentence.result = sentence.finalize(alive)
                leaving.add(position)
            elif job.want_partials and (row := sentence.best_row(alive)) is not None:
                self._emit(job, PartialEvent(sentence.index, sentence.history(row),
                                             sentence.step))
        if self.batching.policy == "static":
            # A static batch is one fixed tensor: finished sentences keep their
            # rows (computed and ignored) and nobody returns until all are done.
            if any(s.result is None for s in batch.sentences):
                return set()
            leaving = set(range(len(batch.sentences)))
        for position in sorted(leaving):
            sentence = batch.sentences[position]
            job = sentence.job
            assert sentence.result is not None
            self.admission.steps.record(sentence.step)
            if job.finish_sentence(sentence.index, sentence.result, sentence.step):
                now = time.monotonic()
                metrics.REQUEST_COMPUTE_SECONDS.labels(self.model).observe(now - job.admitted_at)
                if job.predicted_seconds:
                    metrics.ADMISSION_LATENCY_RATIO.labels(self.model).observe(
                        (now - job.submitted_at) / job.predicted_seconds)
                self._emit(job, job.done())
        return leaving
