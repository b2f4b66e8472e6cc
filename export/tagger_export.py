"""A tagger training run -> a verified `kind: tagger` model version.

tagger.onnx, vocab.json, config.yaml, manifest.json (parity and accuracy).
Parity runs torch vs ONNX Runtime on one padded batch holding lengths 1 and
the maximum, and on each row alone: the padded rows must match their
unpadded selves (the backward direction must not see the padding).
"""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

from seqserve.export.manifest import write_manifest
from seqserve.export.writer import _deep_merge, staged_version
from seqserve.models.tagger import BiLSTMTagger
from seqserve.models.train_tagger import METRICS, TEST, load_tagger
from seqserve.server.repository.config import dump_config, load_config
from seqserve.server.repository.tag_vocab import TagVocab
from seqserve.server.repository.tagger_config import TaggerConfig

PARITY_TOLERANCE = 1e-4
_DYNAMIC = {"tokens": {0: "batch", 1: "time"}, "chars": {0: "batch", 1: "time", 2: "chars"},
            "lengths": {0: "batch"}, "logits": {0: "batch", 1: "time"}}


def export_graph(model: BiLSTMTagger, vocab: TagVocab, path: Path, opset: int = 18) -> None:
    """Legacy exporter: it maps each nn.LSTM to one ONNX LSTM node with symbolic
    batch/time dims (no dynamo Trap 1); the example sizes are primes no real
    dimension equals, and the result is checked to be symbolic anyway."""
    sentences = [["x"] * n for n in (7, 3, 5, 1, 7)]
    tokens, chars, lengths = vocab.batch(sentences)
    chars = np.pad(chars, ((0, 0), (0, 0), (0, 11 - chars.shape[2])))
    args = tuple(torch.from_numpy(a) for a in (tokens, chars, lengths))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, args, buffer, dynamo=False, opset_version=opset,
            input_names=["tokens", "chars", "lengths"], output_names=["logits"],
            dynamic_axes=_DYNAMIC,
        )
    graph = onnx.load_from_string(buffer.getvalue())
    for value in [*graph.graph.input, *graph.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for axis in _DYNAMIC[value.name]:
            if not dims[axis].dim_param:
                raise RuntimeError(f"{value.name} axis {axis} was fixed to {dims[axis].dim_value}")
    onnx.checker.check_model(graph, full_check=True)
    onnx.save(graph, str(path))


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(session: ort.InferenceSession, vocab: TagVocab, sentences: list[list[str]]) -> np.ndarray:
    tokens, chars, lengths = vocab.batch(sentences)
    return session.run(["logits"], {"tokens": tokens, "chars": chars, "lengths": lengths})[0]


def parity(
    model: BiLSTMTagger, vocab: TagVocab, session: ort.InferenceSession,
    test: list[list[str]], max_tokens: int,
) -> dict[str, Any]:
    """Max |ORT - torch| on a padded batch (lengths 1 .. max_tokens) and padded vs alone."""
    longest = max(test, key=len)
    filler = (longest * (max_tokens // len(longest) + 1))[:max_tokens]
    batch = [test[0][:1], filler, *test[1:6], ["Z"]]
    ort_logits = _run(session, vocab, batch)
    with torch.no_grad():
        torch_logits = model(*(torch.from_numpy(a) for a in vocab.batch(batch))).numpy()
    vs_torch = vs_alone = 0.0
    for row, sentence in enumerate(batch):
        n = len(sentence)
        vs_torch = max(vs_torch, float(np.abs(ort_logits[row, :n] - torch_logits[row, :n]).max()))
        alone = _run(session, vocab, [sentence])[0]
        vs_alone = max(vs_alone, float(np.abs(ort_logits[row, :n] - alone).max()))
    report = {"lengths": sorted({len(s) for s in batch}), "max_abs_diff_vs_torch": vs_torch,
              "max_abs_diff_padded_vs_alone": vs_alone, "tolerance": PARITY_TOLERANCE}
    if vs_torch > PARITY_TOLERANCE or vs_alone > PARITY_TOLERANCE:
        raise RuntimeError(f"tagger parity failed: {report}")
    return report


def ort_accuracy(
    session: ort.InferenceSession, vocab: TagVocab, test: list[dict[str, list[str]]]
) -> dict[str, Any]:
    """UPOS accuracy of the exported graph on the held-out test split (padded batches)."""
    correct = total = 0
    started = time.perf_counter()
    for start in range(0, len(test), 64):
        chunk = test[start : start + 64]
        logits = _run(session, vocab, [s["tokens"] for s in chunk])
        for row, sentence in enumerate(chunk):
            predicted = logits[row, : len(sentence["tags"])].argmax(axis=1)
            gold = sentence["tags"]
            correct += sum(vocab.labels[p] == g for p, g in zip(predicted, gold, strict=True))
            total += len(gold)
    seconds = time.perf_counter() - started
    return {"upos_accuracy": correct / max(total, 1), "tokens": total,
            "sentences": len(test), "sentences_per_s": round(len(test) / seconds, 1)}


def export_tagger(
    run: Path, repository: Path, name: str, version: int | None = None,
    *, config_overrides: dict[str, Any] | None = None, min_accuracy: float = 0.0,
) -> Path:
    """Export, check parity and accuracy, publish `repository/name/version`."""
    model, vocab, state = load_tagger(run)
    base = TaggerConfig(name=name).model_dump(mode="json")
    config = TaggerConfig.model_validate(_deep_merge(base, {
        "vocab": {"max_chars": vocab.max_chars, "lowercase": vocab.lowercase},
        "description": f"BiLSTM POS tagger ({state['train_config'].get('data', '')})",
        # One intra-op thread: a tagger batch is small work, and on a shared
        # 2-core machine a second ORT thread mostly contends with the gRPC
        # threads (measured: B=1 0.56 ms with 1 thread, 1.2 ms with 2).
        "runtime": {"intra_op_threads": 1},
        **(config_overrides or {}), "name": name,
    }))
    test = [json.loads(line) for line in (Path(run) / TEST).read_text().splitlines()]
    with staged_version(repository, name, version) as staged:
        graph_path = staged.path / config.graphs.tagger
        export_graph(model, vocab, graph_path)
        vocab.save(staged.path / config.vocab.file)
        dump_config(config, staged.path)
        if load_config(staged.path) != config:
            raise RuntimeError("config.yaml does not round-trip through load_config")
        session = _session(graph_path)
        report = parity(model, vocab, session, [s["tokens"] for s in test],
                        config.limits.max_tokens)
        quality = ort_accuracy(session, vocab, test)
        if quality["upos_accuracy"] < min_accuracy:
            raise RuntimeError(
                f"UPOS accuracy {quality['upos_accuracy']:.3f} is below {min_accuracy}"
            )
        metrics_path = Path(run) / METRICS
        training = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        write_manifest(staged.path, {
            "kind": "tagger", "exporter": {"tagger": "legacy"}, "parity": {"tagger": report},
            "quality": quality, "training": training,
        })
        return staged.publish()
