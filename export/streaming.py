"""Export a streaming run (models/streaming) to `model_repository/<name>/<version>/`.

One `step.onnx` (legacy exporter: it turns pack_padded_sequence into the LSTM
node's sequence_lens, which dynamo cannot), its config.yaml naming the state
pairs, the vocabulary for the char LM, and a manifest with the parity figures:
ORT on batches of rows with different chunk lengths and random states vs the
PyTorch model row by row. Published atomically like the translator.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

from seqserve.export.graph_checks import describe
from seqserve.export.manifest import check_manifest, write_manifest
from seqserve.export.onnx_export import _quiet
from seqserve.export.writer import _deep_merge, staged_version, write_config
from seqserve.models.streaming.nets import CharLM, Forecaster
from seqserve.models.streaming.train import load_streaming_run
from seqserve.server.repository.streaming_config import StreamingConfig

log = logging.getLogger(__name__)

OPSET = 18
PARITY_TOLERANCE = 1e-5
VOCAB_FILE = "vocab.jsonl"


def _state_specs(model: torch.nn.Module) -> list[dict[str, Any]]:
    lstm = {"shape": [model.layers, model.hidden], "batch_axis": 1}
    pairs = [{"input": "h", "output": "h_out", **lstm}, {"input": "c", "output": "c_out", **lstm}]
    if isinstance(model, CharLM):
        pairs.append({"input": "logp", "output": "logp_out", "shape": [model.vocab],
                      "batch_axis": 0, "init": float(-np.log(model.vocab))})
    else:
        pairs += [
            {"input": "prev", "output": "prev_out", "shape": [model.features], "batch_axis": 0},
            {"input": "seen", "output": "seen_out", "shape": [1], "batch_axis": 0},
        ]
    return pairs


def base_config(name: str, model: torch.nn.Module, run: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, CharLM):
        return {
            "name": name, "kind": "streaming",
            "description": "character LSTM language model (LibreOffice help, English)",
            "input": {"type": "tokens", "vocabulary": VOCAB_FILE, "vocab_size": model.vocab},
            "graph": {"outputs": list(CharLM.OUTPUTS), "states": _state_specs(model)},
            "present": {"top_probs": "top_probs", "top_ids": "top_ids",
                        "surprise": "surprise_bits", "top_k": model.top_k},
        }
    norm = run["normalization"]
    return {
        "name": name, "kind": "streaming",
        "description": f"LSTM forecaster, weekly Mauna Loa CO2 (ppm), horizon {model.horizon}",
        "input": {"type": "float", "features": model.features, "mean": norm["mean"],
                  "std": norm["std"]},
        "graph": {"outputs": list(Forecaster.OUTPUTS), "states": _state_specs(model)},
        "present": {"forecast": "forecast"},
    }


def _example(model: torch.nn.Module, batch: int, steps: int, rng: np.random.Generator):
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    if isinstance(model, CharLM):
        inputs = torch.from_numpy(rng.integers(0, model.vocab, size=(batch, steps)))
    else:
        shape = (batch, steps, model.features)
        inputs = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    state = [s.clone() for s in model.init_state(batch)]
    for s in state[:2]:
        s.normal_(0, 0.5)
    if isinstance(model, CharLM):  # logp: a real distribution, not noise
        state[2] = torch.log_softmax(torch.randn(batch, model.vocab), dim=-1)
    else:  # prev: any value; seen: rows mid-stream (1) and fresh ones (0)
        state[2].normal_(0, 1)
        state[3] = torch.from_numpy((np.arange(batch) % 2).astype(np.float32)).view(-1, 1)
    return inputs, torch.from_numpy(lengths), state


def export_step(model: torch.nn.Module, path: Path) -> onnx.ModelProto:
    states = _state_specs(model)
    state_in = [p["input"] for p in states]
    state_out = [p["output"] for p in states]
    outputs = list(model.OUTPUTS)
    inputs, lengths, state = _example(model, 5, 7, np.random.default_rng(0))
    axes: dict[str, dict[int, str]] = {"inputs": {0: "B", 1: "T"}, "lengths": {0: "B"}}
    for p in states:
        axes[p["input"]] = axes[p["output"]] = {p["batch_axis"]: "B"}
    for name in outputs:
        axes[name] = {0: "B", 1: "T"}
    buffer = io.BytesIO()
    with torch.no_grad(), _quiet():
        torch.onnx.export(
            model, (inputs, lengths, *state), buffer, dynamo=False,
            input_names=["inputs", "lengths", *state_in], output_names=[*outputs, *state_out],
            dynamic_axes=axes, opset_version=OPSET,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    lstm_nodes = [n for n in proto.graph.node if n.op_type == "LSTM"]
    if not lstm_nodes or any(len(n.input) < 5 or not n.input[4] for n in lstm_nodes):
        raise RuntimeError("step graph: LSTM nodes lack sequence_lens; chunks would not batch")
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))
    return proto


@torch.no_grad()
def step_parity(model: torch.nn.Module, path: Path, trials: int = 3) -> float:
    """Max |ORT - torch| over batches (sizes and lengths unlike the export example),
    each row compared with the PyTorch model run on that row alone."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    states = _state_specs(model)
    names = [*model.OUTPUTS, *[p["output"] for p in states]]
    rng = np.random.default_rng(7)
    worst = 0.0
    for batch, steps in [(3, 11), (9, 4), (1, 1)][:trials]:
        inputs, lengths, state = _example(model, batch, steps, rng)
        feeds = {"inputs": inputs.numpy(), "lengths": lengths.numpy()}
        feeds.update({p["input"]: s.numpy() for p, s in zip(states, state, strict=True)})
        got = dict(zip(names, session.run(names, feeds), strict=True))
        for row in range(batch):
            n = int(lengths[row])
            row_state = [s[:, row : row + 1] if p["batch_axis"] == 1 else s[row : row + 1]
                         for p, s in zip(states, state, strict=True)]
            want = model.step(inputs[row : row + 1, :n], lengths[row : row + 1], *row_state)
            for name, value in zip(names, want, strict=True):
                value = value.double().numpy()
                if name in model.OUTPUTS:
                    mine = got[name][row : row + 1, :n]
                elif value.ndim == 3:
                    mine = got[name][:, row : row + 1]
                else:
                    mine = got[name][row : row + 1]
                if name == "top_ids":
                    continue  # ids compared through their probabilities
                worst = max(worst, float(np.abs(mine.astype(np.float64) - value).max()))
    return worst


def export_streaming_run(
    run_dir: Path, repository: Path, name: str, version: int | None = None,
    *, config_overrides: dict[str, Any] | None = None,
) -> Path:
    model, run = load_streaming_run(Path(run_dir))
    raw = _deep_merge(base_config(name, model, run), {**(config_overrides or {}), "name": name})
    config = StreamingConfig.model_validate(raw)
    with staged_version(Path(repository), name, version) as staged:
        proto = export_step(model, staged.path / config.graph.file)
        parity = step_parity(model, staged.path / config.graph.file)
        log.info("step.onnx parity max |ORT - torch| = %.3g", parity)
        if parity > PARITY_TOLERANCE:
            raise RuntimeError(f"step.onnx parity {parity:.3g} exceeds {PARITY_TOLERANCE}")
        if isinstance(model, CharLM):
            lines = [json.dumps(ch) for ch in run["vocabulary"]]
            (staged.path / VOCAB_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_config(staged.path, config)
        write_manifest(staged.path, {
            "model": {"name": name, "version": staged.version, "kind": "streaming",
                      "arch": {"type": type(model).__name__, **_arch(model)}},
            "exporter": {"step": "legacy"},
            "graphs": {"step": {"file": config.graph.file, "opset": OPSET,
                                "signature": describe(proto)}},
            "parity": {"step": {"max_abs_diff": parity, "tolerance": PARITY_TOLERANCE}},
            "training": run.get("metrics", {}),
        })
        problems = check_manifest(staged.path)
        if problems:
            raise RuntimeError(f"manifest does not match the files: {problems}")
        final = staged.publish()
    log.info("published %s", final)
    return final


def _arch(model: torch.nn.Module) -> dict[str, float]:
    keys = ("vocab", "hidden", "layers", "top_k", "horizon", "features", "diff_scale")
    return {k: getattr(model, k) for k in keys if hasattr(model, k)}


def is_streaming_run(run_dir: Path) -> bool:
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        return False
    return json.loads(path.read_text()).get("kind") in ("charlm", "co2")


def export_streaming_cli(run_dir: Path, repository: Path, name: str, version: int | None) -> int:
    """`seqserve export` for a streaming run: export, print parity and quality."""
    try:
        final = export_streaming_run(run_dir, repository, name, version)
    except Exception as exc:  # one line per failed check, like the translator's export
        print(f"export failed: {type(exc).__name__}: {exc}")
        return 1
    manifest = json.loads((final / "manifest.json").read_text())
    parity = manifest["parity"]["step"]["max_abs_diff"]
    print(f"parity  step (legacy): max |ORT - torch| {parity:.2e}")
    for key, value in manifest["training"].items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"quality {key}: {shown}")
    print(f"published {final}")
    return 0
