"""ONNX Runtime vs PyTorch on the exported graphs, at shapes the export never saw.

A graph that pinned a dynamic size to the export example fails here even if
its declared signature looks right, and a wrong padding or gather path shows
up as a numerical difference on the padded rows (lengths 1 and S are always
present). TopK ids are compared only where the gap to the neighbouring
candidate is larger than the tolerance, since a near-tie may legitimately
swap between two correct implementations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.inputs import Batch, ModelDims, decoder_batch, encoder_batch, to_torch
from seqserve.export.signature import decoder_signature, encoder_signature
from seqserve.export.step_form import encoder_graph, served_memory
from seqserve.export.torch_step import single_thread
from seqserve.export.wrappers import DecoderStepGraph
from seqserve.server.repository.config import Seq2SeqTensors

TOLERANCE = 1e-4

# (batch, src_len): single rows, length 1, and sizes above and below any example.
ENCODER_CASES = ((1, 1), (1, 9), (2, 4), (4, 13), (6, 2), (9, 30))
# (rows, requests, src_len, k): one row, one request, many rows per request, k=1 and larger.
DECODER_CASES = (
    (1, 1, 1, 1),
    (4, 1, 6, 4),
    (8, 3, 9, 2),
    (12, 4, 2, 8),
    (2, 2, 15, 1),
    (20, 6, 24, 5),
)


class ParityError(RuntimeError):
    """ORT and PyTorch disagree beyond the tolerance."""


@dataclass
class ParityReport:
    graph: str
    tolerance: float
    cases: list[dict[str, int]] = field(default_factory=list)
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    """Per float output, the largest |ORT - torch| over all cases."""
    topk_ids_compared: int = 0
    topk_ids_mismatched: int = 0
    """Ids that differ where the candidate is not within tolerance of a neighbour."""

    @property
    def ok(self) -> bool:
        return (
            all(d <= self.tolerance for d in self.max_abs_diff.values())
            and self.topk_ids_mismatched == 0
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        diffs = ", ".join(f"{k}={v:.2e}" for k, v in self.max_abs_diff.items())
        ids = ""
        if self.topk_ids_compared:
            ids = f"; topk_ids {self.topk_ids_mismatched}/{self.topk_ids_compared} mismatched"
        return f"{self.graph}: max |ORT - torch| {diffs}{ids} over {len(self.cases)} shapes"


def cpu_session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # One thread: parity needs no speed, and the machine is shared.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    # A NaN on either side counts as an infinite difference, never as "equal".
    return float(np.where(np.isnan(diff), np.inf, diff).max())


def _record(report: ParityReport, name: str, value: float) -> None:
    report.max_abs_diff[name] = max(report.max_abs_diff.get(name, 0.0), value)


@torch.no_grad()
def encoder_parity(
    module: Seq2SeqModule,
    path: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    *,
    cases: tuple[tuple[int, int], ...] = ENCODER_CASES,
    tolerance: float = TOLERANCE,
    seed: int = 10,
) -> ParityReport:
    sig = encoder_signature(tensors)
    # The exported function: the module's encode, plus the attention keys in a keyed form.
    graph = encoder_graph(module).eval()
    session = cpu_session(path)
    rng = np.random.default_rng(seed)
    report = ParityReport("encoder", tolerance)
    for batch_size, src_len in cases:
        batch = encoder_batch(tensors, rng, batch_size, src_len, dims.source_vocab)
        with single_thread():
            expected = [t.numpy() for t in graph(*to_torch(batch, sig.input_names))]
        got = session.run(sig.output_names, batch)
        for name, e, g in zip(sig.output_names, expected, got, strict=True):
            _record(report, name, _max_abs(g, e))
        report.cases.append({"batch": batch_size, "src_len": src_len})
    return report


def _compare_topk_ids(
    report: ParityReport,
    got_ids: np.ndarray,
    want_ids: np.ndarray,
    want_values: np.ndarray,
) -> None:
    """Compare ids of the first k candidates; want_values has k+1 columns when V > k,
    so the last kept candidate also has a neighbour below it."""
    k = got_ids.shape[1]
    if got_ids.shape != want_ids[:, :k].shape:
        report.topk_ids_compared += want_ids.size
        report.topk_ids_mismatched += want_ids.size
        return
    gaps = np.full(want_values.shape, np.inf)
    step = np.abs(np.diff(want_values.astype(np.float64), axis=1))
    gaps[:, 1:] = np.minimum(gaps[:, 1:], step)  # gap to the candidate above
    gaps[:, :-1] = np.minimum(gaps[:, :-1], step)  # gap to the candidate below
    clear = gaps[:, :k] > report.tolerance
    report.topk_ids_compared += int(clear.sum())
    report.topk_ids_mismatched += int((clear & (got_ids != want_ids[:, :k])).sum())


@torch.no_grad()
def decoder_parity(
    module: Seq2SeqModule,
    path: Path,
    tensors: Seq2SeqTensors,
    dims: ModelDims,
    *,
    cases: tuple[tuple[int, int, int, int], ...] = DECODER_CASES,
    tolerance: float = TOLERANCE,
    seed: int = 11,
) -> ParityReport:
    sig = decoder_signature(tensors)
    graph = DecoderStepGraph(module).eval()
    session = cpu_session(path)
    rng = np.random.default_rng(seed)
    report = ParityReport("decoder", tolerance)
    for rows, requests, src_len, k in cases:
        k = min(k, dims.target_vocab)
        batch: Batch = decoder_batch(tensors, rng, dims, rows, requests, src_len, k)
        # torch runs with one extra candidate so the k-th id has a neighbour for
        # the near-tie test; its first k columns are what topk(k) returns.
        wider = dict(batch)
        wider[tensors.k] = np.array([min(k + 1, dims.target_vocab)], dtype=np.int64)
        with single_thread():
            expected = [t.numpy() for t in graph(*to_torch(wider, sig.input_names))]
        # The reference is always the module's own decode_step; the graph reads the
        # memory as served (with its attention keys in the keyed form).
        served = dict(batch)
        served[tensors.memory] = served_memory(
            module, torch.from_numpy(batch[tensors.memory])).numpy()
        got = dict(zip(sig.output_names, session.run(sig.output_names, served), strict=True))
        want = dict(zip(sig.output_names, expected, strict=True))
        for name in sig.output_names:
            if name == tensors.topk_ids:
                continue
            w = want[name][:, :k] if name == tensors.topk_logprobs else want[name]
            _record(report, name, _max_abs(got[name], w))
        _compare_topk_ids(
            report, got[tensors.topk_ids], want[tensors.topk_ids], want[tensors.topk_logprobs]
        )
        report.cases.append({"rows": rows, "requests": requests, "src_len": src_len, "k": k})
    return report
