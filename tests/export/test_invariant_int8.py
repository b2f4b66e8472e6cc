"""Batching-invariant int8 (export/invariant_int8.py): a statically quantized decoder
whose rows do not depend on their batch-mates, with BLEU measured and bounded.

Checked on the cached numbers model (copied, never modified): the decoder's weight
products become QDQ int8 with fixed scales, the LSTM and the encoder stay fp32, one
request's step outputs are bitwise the same alone and among other requests, and
`seqserve export --quantize int8-invariant` publishes it for a translator and refuses
it for other kinds with a clear message.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from seqserve.export.cli import main as export_main
from seqserve.export.invariant_int8 import METHOD, calibration_feeds, invariant_quantizer
from seqserve.export.quantize import quantize_version, seq2seq_measure
from seqserve.export.run_dir import load_run
from seqserve.server.repository.config import MANIFEST_FILE, load_config


def ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def one_request_alone_and_in_batch(version_dir: Path, sources: list[str]) -> tuple[dict, dict]:
    """One step's outputs for request 0's rows: alone, and cut from the whole batch."""
    config = load_config(version_dir)
    names = config.graphs.tensors
    feed = calibration_feeds(version_dir, sources, steps=3)[-1]
    session = ort.InferenceSession(str(version_dir / config.graphs.decoder),
                                   providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    full = dict(zip(outputs, session.run(outputs, feed), strict=True))
    alone_feed = {**feed, names.prev_tokens: feed[names.prev_tokens][:1],
                  names.h: feed[names.h][:, :1], names.c: feed[names.c][:, :1],
                  names.memory: feed[names.memory][:1],
                  names.memory_mask: feed[names.memory_mask][:1],
                  names.memory_index: feed[names.memory_index][:1]}
    alone = dict(zip(outputs, session.run(outputs, alone_feed), strict=True))
    state = (names.h_out, names.c_out)
    cut = {n: (v[:, :1] if n in state else v[:1]) for n, v in full.items()}
    return alone, cut


def test_invariant_int8_is_batching_invariant_and_keeps_bleu(
    numbers_repository: Path, numbers_run: Path, tmp_path: Path
) -> None:
    fp32 = tmp_path / "fp32" / "numbers" / "1"
    shutil.copytree(numbers_repository / "numbers" / "1", fp32)
    held_out = load_run(numbers_run).held_out
    pairs, calibration = held_out[:40], [s for s, _ in held_out[40:80]]
    final = quantize_version(fp32, tmp_path / "repo", "numbers", None, seq2seq_measure(pairs),
                             max_drop=5.0, quantizer=invariant_quantizer(calibration),
                             method=METHOD)
    report = json.loads((final / MANIFEST_FILE).read_text())["quantization"]
    assert report["method"] == METHOD and report["drop"] <= 5.0
    decoder = ops(final / "decoder.onnx")
    assert "QuantizeLinear" in decoder and "LSTM" in decoder
    assert not decoder & {"DynamicQuantizeLSTM", "DynamicQuantizeMatMul", "MatMulInteger"}
    assert (final / "encoder.onnx").read_bytes() == (fp32 / "encoder.onnx").read_bytes()

    sources = [s for s, _ in held_out[:6]]
    alone, cut = one_request_alone_and_in_batch(final, sources)
    for name, value in alone.items():
        np.testing.assert_array_equal(value, cut[name], err_msg=name)


def test_cli_publishes_it_for_a_translator_and_refuses_other_kinds(
    numbers_run: Path, co2_run: Path, tmp_path: Path, capsys
) -> None:
    repo = tmp_path / "repo"
    code = export_main(["--run", str(numbers_run), "--model-repository", str(repo),
                        "--name", "numbers", "--quantize", "int8-invariant",
                        "--bleu-pairs", "30", "--verify-sentences", "5",
                        "--max-quality-drop", "5"])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((repo / "numbers" / "1" / MANIFEST_FILE).read_text())
    assert manifest["quantization"]["method"] == METHOD
    run = tmp_path / "co2-run"
    shutil.copytree(co2_run, run)
    refused = export_main(["--run", str(run), "--model-repository", str(repo), "--name", "co2",
                           "--quantize", "int8-invariant"])
    assert refused == 1
    assert "is for translators" in capsys.readouterr().err
    assert not (repo / "co2").exists()
