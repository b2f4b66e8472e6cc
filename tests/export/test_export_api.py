"""export_seq2seq end to end on a tiny module: the written directory, its manifest, and
beam-search equivalence with the served engine (OfflineTranslator) under several options."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from seqserve.export.manifest import check_manifest, sha256_file
from seqserve.export.verify import verify_beam_search
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.repository.config import load_config
from tests.export.conftest import TinyCorpus
from tests.export.tiny_module import TinySeq2Seq


def test_version_directory_is_complete_and_alone(published: Path) -> None:
    assert published.name == "1"
    assert sorted(p.name for p in published.iterdir()) == [
        "config.yaml", "decoder.onnx", "encoder.onnx", "manifest.json",
        "source.model", "target.model",
    ]  # fmt: skip
    # The staging directory was renamed, not copied: nothing else is left beside it.
    assert [p.name for p in published.parent.iterdir()] == ["1"]


def test_config_loads_with_overrides(published: Path) -> None:
    config = load_config(published)
    assert config.name == "tiny"
    assert config.decoding.max_length == 20
    assert config.source_language == "en"
    assert config.decoding.beam_size == 4  # untouched defaults stay


def test_manifest_hashes_match_and_figures_are_recorded(published: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text())
    assert check_manifest(published) == []
    for name, digest in manifest["files"].items():
        assert sha256_file(published / name) == digest
    assert set(manifest["files"]) == {
        "config.yaml", "decoder.onnx", "encoder.onnx", "source.model", "target.model",
    }  # fmt: skip
    assert manifest["exporter"] == {"encoder": "dynamo", "decoder": "dynamo"}
    assert {"torch", "onnx", "seqserve", "python"} <= set(manifest["versions"])
    for report in manifest["parity"].values():
        assert report["ok"]
        assert max(report["max_abs_diff"].values()) <= 1e-4
    for check in ("beam4", "greedy"):
        result = manifest["beam_verification"][check]
        assert result["identical"] == result["sentences"] == 20
        assert result["max_score_diff"] < 1e-4
    assert manifest["quality"]["pairs"] == 40
    assert 0.0 <= manifest["quality"]["beam5"]["bleu"] <= 100.0
    assert manifest["training"] == {"final": {"valid_loss": 1.5}}
    assert manifest["graphs"]["decoder"]["signature"]["outputs"]["topk_ids"] == ["N", "k"]


def test_manifest_check_detects_edits(published: Path, tmp_path: Path) -> None:
    copy = tmp_path / "1"
    shutil.copytree(published, copy)
    (copy / "config.yaml").write_text((copy / "config.yaml").read_text() + "\n# edited\n")
    (copy / "notes.txt").write_text("extra")
    (copy / "target.model").unlink()
    problems = "\n".join(check_manifest(copy))
    assert "config.yaml: sha256 differs" in problems
    assert "notes.txt: not listed" in problems
    assert "target.model: listed but missing" in problems


def test_engine_matches_reference_under_length_options(
    published: Path, tiny_module: TinySeq2Seq, tiny_corpus: TinyCorpus
) -> None:
    """min_length, max_length and length_penalty paths of the served beam search."""
    sentences = [tiny_corpus.encode_source(s) for s, _ in tiny_corpus.pairs[20:35]]
    checks = {
        "min_length": DecodingOptions(beam_size=3, n_best=3, min_length=3),
        "max_length": DecodingOptions(beam_size=2, n_best=2, max_length=2),
        "no_penalty": DecodingOptions(beam_size=5, n_best=2, length_penalty=0.0),
        "penalty_2": DecodingOptions(beam_size=4, n_best=4, length_penalty=2.0),
    }
    for result in verify_beam_search(published, tiny_module, sentences, checks=checks):
        assert result.ok, (result.summary(), result.mismatches[:1])
