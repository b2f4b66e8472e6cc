"""int8 export for every kind on the tiny cached runs: quality recorded, bound enforced.

The cache is never modified: runs and repositories are copied into tmp_path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest

from seqserve.export.cli import main as export_main
from seqserve.export.quantize import (
    QualityDropError,
    captioner_measure,
    quantize_version,
    seq2seq_measure,
    tagger_measure,
)
from seqserve.server.repository.config import MANIFEST_FILE
from tests.integration.grpc_helpers import held_out_pairs

CACHE = Path("/work/test-cache")


def cached(tmp_path: Path, name: str) -> Path:
    source = CACHE / name
    if not source.exists():
        pytest.skip(f"{source} is not in the test cache")
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / MANIFEST_FILE).read_text())


def test_translator_int8_records_bleu_and_quantizes_every_lstm(tmp_path: Path) -> None:
    fp32 = cached(tmp_path, "numbers-repo") / "numbers" / "1"
    pairs = held_out_pairs(CACHE / "numbers-run", 40)
    final = quantize_version(fp32, tmp_path / "repo", "numbers", None, seq2seq_measure(pairs),
                             max_drop=5.0)
    report = manifest(final)["quantization"]
    assert report["metric"] == "bleu" and report["drop"] <= 5.0
    for graph in ("encoder.onnx", "decoder.onnx"):
        found = ops(final / graph)
        assert "LSTM" not in found and "MatMulInteger" in found
        # The decoder's LSTM is plain MatMuls in the fused step form (fused_step.py);
        # an LSTM node, where there is one, must have become the int8 one.
        if "LSTM" in ops(fp32 / graph):
            assert "DynamicQuantizeLSTM" in found
    assert "DynamicQuantizeLSTM" in ops(final / "encoder.onnx")
    assert (fp32 / "decoder.onnx").read_bytes() != (final / "decoder.onnx").read_bytes()


def test_refused_when_the_drop_exceeds_the_bound(tmp_path: Path) -> None:
    fp32 = cached(tmp_path, "tagger-repo")
    version_dir = next(p for p in fp32.rglob(MANIFEST_FILE)).parent
    with pytest.raises(QualityDropError, match="max-quality-drop"):
        # A bound below any possible drop: int8 can never be better by 1000 points.
        quantize_version(version_dir, tmp_path / "repo", "tagger", None,
                         tagger_measure(CACHE / "tagger-run"), max_drop=-1000.0)
    assert not any((tmp_path / "repo").rglob(MANIFEST_FILE))  # nothing published


def test_captioner_int8_records_bleu4(tmp_path: Path) -> None:
    repo = cached(tmp_path, "captioner-repo")
    version_dir = next(p for p in repo.rglob(MANIFEST_FILE)).parent
    final = quantize_version(version_dir, tmp_path / "repo", "scenes", None,
                             captioner_measure(20), max_drop=100.0)
    assert manifest(final)["quantization"]["metric"] == "bleu4"


@pytest.mark.parametrize(("run", "metric"), [("co2-run", "mae"),
                                             ("charlm-run", "bits_per_char")])
def test_streaming_cli_int8(tmp_path: Path, run: str, metric: str, capsys) -> None:
    run_dir = cached(tmp_path, run)
    code = export_main(["--run", str(run_dir), "--model-repository", str(tmp_path / "repo"),
                        "--name", "m", "--quantize", "int8"])
    assert code == 0, capsys.readouterr().err
    final = tmp_path / "repo" / "m" / "1"
    report = manifest(final)["quantization"]
    assert report["metric"] == metric and report["drop"] <= report["max_quality_drop"]
    assert "DynamicQuantizeLSTM" in ops(final / "step.onnx")
    refused = export_main(["--run", str(run_dir), "--model-repository",
                           str(tmp_path / "repo"), "--name", "m", "--quantize", "int8",
                           "--max-quality-drop", "-1000"])
    assert refused == 1
    assert "max-quality-drop" in capsys.readouterr().err
    assert not (tmp_path / "repo" / "m" / "2").exists()
