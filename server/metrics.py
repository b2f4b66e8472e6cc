"""Prometheus metrics shared by the engine and the api layer.

One module so every name is defined once; the HTTP exporter runs on its own
port (see api/metrics_http.py). Labels stay low-cardinality: model name only.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
# The custom registry drops prometheus_client's defaults: add back the process
# (RSS, CPU seconds, open and max fds) and platform (Python version) metrics.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_STEP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

REQUESTS = Counter(
    "seqserve_requests",
    "RPCs handled, by method and final gRPC status code.",
    ["model", "method", "code"],
    registry=REGISTRY,
)
REQUEST_LATENCY = Histogram(
    "seqserve_request_latency_seconds",
    "Wall time of an RPC from arrival to the last response.",
    ["model", "method"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "seqserve_queue_depth",
    "Work waiting for admission into the model's batch: sentences or images; session chunks.",
    ["model"],
    registry=REGISTRY,
)
LIVE_SENTENCES = Gauge(
    "seqserve_live_sentences",
    "Sentences currently decoding (in the iteration-level batch).",
    ["model"],
    registry=REGISTRY,
)
BATCH_ROWS = Histogram(
    "seqserve_decode_batch_rows",
    "Hypothesis rows in one decoder step.",
    ["model"],
    buckets=_SIZE_BUCKETS,
    registry=REGISTRY,
)
ENCODER_BATCH = Histogram(
    "seqserve_encoder_batch_sentences",
    "Sentences in one encoder call.",
    ["model"],
    buckets=_SIZE_BUCKETS,
    registry=REGISTRY,
)
DECODE_STEP_SECONDS = Histogram(
    "seqserve_decode_step_seconds",
    "Wall time of one decode iteration (graph run plus beam bookkeeping).",
    ["model"],
    buckets=_STEP_BUCKETS,
    registry=REGISTRY,
)
ENCODE_SECONDS = Histogram(
    "seqserve_encode_seconds",
    "Wall time of one encoder call.",
    ["model"],
    buckets=_STEP_BUCKETS,
    registry=REGISTRY,
)
ABORTED_SENTENCES = Counter(
    "seqserve_aborted_sentences",
    "Sentences removed from the batch before finishing, by reason.",
    ["model", "reason"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "seqserve_rejected_requests",
    "Requests refused before admission (queue full, draining).",
    ["model", "reason"],
    registry=REGISTRY,
)

# ---- streaming sessions (engine/sessions) ----
LIVE_SESSIONS = Gauge(
    "seqserve_live_sessions",
    "Sessions holding a state slot.",
    ["model"],
    registry=REGISTRY,
)
SESSIONS_OPENED = Counter(
    "seqserve_sessions_opened",
    "Sessions opened, by how (new, resumed from a snapshot, attached to a live one).",
    ["model", "how"],
    registry=REGISTRY,
)
SESSIONS_ENDED = Counter(
    "seqserve_sessions_ended",
    "Sessions that left memory, by reason (closed, disconnected, idle, unloaded).",
    ["model", "reason"],
    registry=REGISTRY,
)
SESSION_TICK_ROWS = Histogram(
    "seqserve_session_tick_rows",
    "Sessions (rows) in one batched step run.",
    ["model"],
    buckets=_SIZE_BUCKETS,
    registry=REGISTRY,
)
SESSION_STEP_SECONDS = Histogram(
    "seqserve_session_step_seconds",
    "Wall time of one tick's step run (gather, graph, scatter).",
    ["model"],
    buckets=_STEP_BUCKETS,
    registry=REGISTRY,
)
SNAPSHOT_SECONDS = Histogram(
    "seqserve_session_snapshot_seconds",
    "Wall time of writing one tick's snapshots to the session store.",
    ["model"],
    buckets=_STEP_BUCKETS,
    registry=REGISTRY,
)
SESSION_STATE_BYTES = Gauge(
    "seqserve_session_state_bytes",
    "State bytes held per session (the pool preallocates this per slot).",
    ["model"],
    registry=REGISTRY,
)

# ---- request phases (issue 9): where a request's time goes ----
REQUEST_QUEUE_SECONDS = Histogram(
    "seqserve_queue_duration_seconds",
    "Time a unit of work (sentence, image, session chunk) waited before its model ran it.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
REQUEST_COMPUTE_SECONDS = Histogram(
    "seqserve_compute_duration_seconds",
    "Time from admission into the model's batch to the result (decode loop, batch run, tick).",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ADMISSION_LATENCY_RATIO = Histogram(
    "seqserve_admission_latency_ratio",
    "A finished request's latency over the latency admission predicted for it "
    "(above 1: admission was optimistic, requests near their deadline will expire).",
    ["model"],
    buckets=(0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0),
    registry=REGISTRY,
)
FIRST_PARTIAL_SECONDS = Histogram(
    "seqserve_time_to_first_partial_seconds",
    "TranslateStream: time from the RPC's arrival to its first partial hypothesis.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
SESSION_INTER_STEP_SECONDS = Histogram(
    "seqserve_session_inter_step_seconds",
    "Time between a session's consecutive step results (the first: since it opened).",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
QUEUE_CAPACITY = Gauge(
    "seqserve_queue_capacity",
    "The model's max_queue: queue_depth / queue_capacity is how full the queue is.",
    ["model"],
    registry=REGISTRY,
)
SESSION_CAPACITY = Gauge(
    "seqserve_session_capacity",
    "The model's max_sessions: live_sessions / session_capacity is how full the table is.",
    ["model"],
    registry=REGISTRY,
)
PREDICT_MANY_STEPS = Counter(
    "seqserve_predict_many_steps",
    "PredictMany steps answered, by model and the step's own status code "
    "(step errors travel inside an OK stream). Unknown models count under model=\"\".",
    ["model", "code"],
    registry=REGISTRY,
)
MODEL_VERSION_STATE = Gauge(
    "seqserve_model_version_state",
    "1 for the state each model version is in (READY, FAILED, RETIRING), else absent.",
    ["model", "version", "state"],
    registry=REGISTRY,
)
