"""Model-directory writing: versions, config overrides, atomic publish, cleanup on failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from seqserve.export.manifest import check_manifest, write_manifest
from seqserve.export.writer import build_config, next_version, staged_version, write_config
from seqserve.server.repository.config import load_config


def test_next_version_ignores_non_numeric_directories(tmp_path: Path) -> None:
    assert next_version(tmp_path / "missing") == 1
    for name in ("1", "3", ".staging-4-abcd", "latest"):
        (tmp_path / name).mkdir()
    assert next_version(tmp_path) == 4


def test_overrides_merge_per_field_and_bad_ones_fail_early() -> None:
    config = build_config("m", {"decoding": {"beam_size": 6}, "limits": {"max_beam_size": 6}})
    assert config.decoding.beam_size == 6
    assert config.decoding.max_length == 128  # the rest of the section is kept
    with pytest.raises(ValidationError, match="max_beam_size"):
        build_config("m", {"decoding": {"beam_size": 9}})
    with pytest.raises(ValidationError, match="extra"):
        build_config("m", {"decodng": {"beam_size": 2}})


def test_config_round_trips(tmp_path: Path) -> None:
    config = write_config(tmp_path, build_config("m", {"description": "x"}))
    assert load_config(tmp_path) == config


def test_publish_is_a_rename_and_failure_leaves_nothing(tmp_path: Path) -> None:
    with staged_version(tmp_path, "m", None) as staged:
        assert staged.path.name.startswith(".staging-1-")
        (staged.path / "a.txt").write_text("a")
        write_manifest(staged.path, {})
        assert not (tmp_path / "m" / "1").exists()  # invisible until published
        final = staged.publish()
    assert final == tmp_path / "m" / "1"
    assert check_manifest(final) == []

    with pytest.raises(RuntimeError, match="boom"), staged_version(tmp_path, "m", None) as staged:
        assert staged.version == 2
        (staged.path / "half.onnx").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1"]


def test_existing_version_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "m" / "2").mkdir(parents=True)
    with pytest.raises(FileExistsError), staged_version(tmp_path, "m", 2):
        pass
    with pytest.raises(FileExistsError), staged_version(tmp_path, "m", 3) as staged:
        (tmp_path / "m" / "3").mkdir()  # another exporter won the race
        staged.publish()
    assert list((tmp_path / "m" / "3").iterdir()) == []
