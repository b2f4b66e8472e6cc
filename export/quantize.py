"""int8 weights for an exported model version, with the quality change measured.

ONNX Runtime's dynamic quantization (quantize_dynamic) turns the MatMul/Gemm
and LSTM weights into int8; activations are quantized per call. Measured
trap: the dynamo-exported seq2seq LSTMs read W and R through Unsqueeze nodes,
not straight from initializers, and quantize_dynamic then silently leaves
them fp32 (still LSTM). Constant-folding first (ORT's basic, provider-neutral
graph optimisation, saved to a file) makes them initializers, and every LSTM
becomes DynamicQuantizeLSTM. The manifest records the op counts before and
after, so nobody has to guess.

Quality is measured on the same held-out data for the fp32 and the int8
graphs, by the same function, per kind: BLEU (translator: beam; captioner:
beam 5 BLEU-4), UPOS accuracy in points (tagger), bits/char (character LM)
and one-step MAE in the data's units (forecaster). A drop above the bound
refuses the export.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from seqserve.export.manifest import check_manifest, write_manifest
from seqserve.export.writer import staged_version
from seqserve.server.repository.config import MANIFEST_FILE, load_config

QUANTIZED_OPS = ("MatMul", "Gemm", "LSTM")
INT8_OPS = ("MatMulInteger", "DynamicQuantizeMatMul", "DynamicQuantizeLSTM",
            "MatMulIntegerToFloat")


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    default_max_drop: float
    """In the metric's own units."""


METRICS = {
    "seq2seq": Metric("bleu", True, 1.0),
    "captioner": Metric("bleu4", True, 1.0),
    "tagger": Metric("upos_accuracy_points", True, 1.0),
    "charlm": Metric("bits_per_char", False, 0.05),
    "forecaster": Metric("mae", False, 0.1),
}


class QualityDropError(RuntimeError):
    """int8 lost more quality than the configured bound; nothing was published."""


def quantize_graph(path: Path) -> dict[str, Any]:
    """Quantize one .onnx file in place; returns op counts before and after."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    before = Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
    with tempfile.TemporaryDirectory() as tmp:
        folded, out = Path(tmp) / f"folded-{path.name}", Path(tmp) / path.name
        constant_fold(path, folded)
        quantize_dynamic(str(folded), str(out), op_types_to_quantize=list(QUANTIZED_OPS),
                         weight_type=QuantType.QInt8)
        shutil.move(str(out), str(path))
    after = Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
    watched = (*QUANTIZED_OPS, *INT8_OPS)
    return {"before": {k: before[k] for k in watched if before[k]},
            "after": {k: after[k] for k in watched if after[k]}}


def constant_fold(source: Path, target: Path) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


_constant_fold = constant_fold  # the name scripts of issue 12 imported


def kind_of(version_dir: Path) -> str:
    config = load_config(version_dir)
    if config.kind != "streaming":
        return str(config.kind)
    return "charlm" if config.input.type == "tokens" else "forecaster"


def drop_of(metric: Metric, fp32: float, int8: float) -> float:
    """Positive = int8 is worse, in the metric's units."""
    return fp32 - int8 if metric.higher_is_better else int8 - fp32


def quantize_version(
    fp32_dir: Path,
    repository: Path,
    name: str,
    version: int | None,
    measure: Callable[[Path], float],
    *,
    max_drop: float | None = None,
    quantizer: Callable[[Path], dict[str, Any]] | None = None,
    method: str = "onnxruntime.quantization.quantize_dynamic (QInt8 weights)",
) -> Path:
    """Copy fp32_dir into a new version with int8 graphs; publish only if quality holds.
    `quantizer` (staged dir -> op counts per graph) replaces the default: dynamic
    quantization of every graph (invariant_int8.py gives the batching-invariant one)."""
    kind = kind_of(fp32_dir)
    metric = METRICS[kind]
    bound = metric.default_max_drop if max_drop is None else max_drop
    sections = json.loads((fp32_dir / MANIFEST_FILE).read_text())
    with staged_version(Path(repository), name, version) as staged:
        for item in fp32_dir.iterdir():
            if item.name != MANIFEST_FILE and item.is_file():
                shutil.copy2(item, staged.path / item.name)
        if quantizer is None:
            ops = {p.name: quantize_graph(p) for p in sorted(staged.path.glob("*.onnx"))}
        else:
            ops = quantizer(staged.path)
        fp32_value = measure(fp32_dir)
        int8_value = measure(staged.path)
        drop = drop_of(metric, fp32_value, int8_value)
        if drop > bound:
            raise QualityDropError(
                f"int8 {metric.name} {int8_value:.4g} vs fp32 {fp32_value:.4g}: a drop of "
                f"{drop:.4g}, over --max-quality-drop {bound:g}; no version was published"
            )
        for key in ("format", "created", "files", "versions"):
            sections.pop(key, None)
        model = sections.get("model")
        if isinstance(model, dict):
            model["version"] = staged.version
        sections["quantization"] = {
            "type": "int8", "method": method,
            "ops": ops, "metric": metric.name, "fp32": round(fp32_value, 4),
            "int8": round(int8_value, 4), "drop": round(drop, 4), "max_quality_drop": bound,
        }
        write_manifest(staged.path, sections)
        problems = check_manifest(staged.path)
        if problems:
            raise RuntimeError(f"manifest does not match the files: {problems}")
        return staged.publish()


# ---------------------------------------------------------------- per-kind quality


def seq2seq_measure(pairs: list[tuple[str, str]]) -> Callable[[Path], float]:
    from seqserve.export.quality import measure_quality

    def measure(version_dir: Path) -> float:
        figures = measure_quality(version_dir, pairs)
        beam = next(k for k in figures if k.startswith("beam"))
        return float(figures[beam]["bleu"])

    return measure


def captioner_measure(scenes: int) -> Callable[[Path], float]:
    from seqserve.export.captioner_export import measure_quality

    def measure(version_dir: Path) -> float:
        return float(measure_quality(version_dir, load_config(version_dir), scenes)
                     ["beam5"]["bleu4"])

    return measure


def tagger_measure(run: Path) -> Callable[[Path], float]:
    from seqserve.export.tagger_export import TEST, _session, ort_accuracy
    from seqserve.server.repository.tag_vocab import TagVocab

    test = [json.loads(line) for line in (Path(run) / TEST).read_text().splitlines()]

    def measure(version_dir: Path) -> float:
        config = load_config(version_dir)
        vocab = TagVocab.load(version_dir / config.vocab.file,
                              lowercase=config.vocab.lowercase, max_chars=config.vocab.max_chars)
        session = _session(version_dir / config.graphs.tagger)
        return 100.0 * float(ort_accuracy(session, vocab, test)["upos_accuracy"])

    return measure


def streaming_measure(run: Path, chunk: int = 256) -> Callable[[Path], float]:
    """bits/char over the run's held-out ids, or one-step MAE over its held-out values,
    from a zero state, in chunks carrying the state (as the server runs them)."""
    import onnxruntime as ort

    held = json.loads((Path(run) / "run.json").read_text())

    def measure(version_dir: Path) -> float:
        config = load_config(version_dir)
        graph = config.graph
        session = ort.InferenceSession(str(version_dir / graph.file),
                                       providers=["CPUExecutionProvider"])
        states = {}
        for pair in graph.states:
            shape = list(pair.shape)
            shape.insert(pair.batch_axis, 1)
            states[pair.input] = np.full(shape, pair.init, np.float32)
        tokens = config.input.type == "tokens"
        if tokens:
            series = np.asarray(held["held_out_ids"], np.int64)[None, :]
        else:
            mean = np.asarray(config.input.mean, np.float32)
            std = np.asarray(config.input.std, np.float32)
            raw = np.asarray(held["held_out_values"], np.float32)
            series = ((raw[:, None] - mean) / std)[None]
        names = [o.name for o in session.get_outputs()]
        collected = []
        for start in range(0, series.shape[1], chunk):
            part = series[:, start : start + chunk]
            feeds = {graph.inputs: part, graph.lengths: np.array([part.shape[1]], np.int64),
                     **states}
            outputs = dict(zip(names, session.run(names, feeds), strict=True))
            for pair in graph.states:
                states[pair.input] = outputs[pair.output]
            present = config.present
            collected.append(outputs[present.surprise if tokens else present.forecast][0])
        values = np.concatenate(collected, axis=0)
        if tokens:
            return float(values.mean())
        one_step = values[:-1, 0] * std[0] + mean[0]
        return float(np.abs(one_step - raw[1:]).mean())

    return measure
