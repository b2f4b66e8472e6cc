"""Model repository scanning and config validation with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.server.errors import NotFoundError
from seqserve.server.repository.config import (
    ConfigError,
    ModelConfig,
    dump_config,
    load_config,
)
from seqserve.server.repository.repository import ModelRepository


def write_version(root: Path, name: str, version: str, config: ModelConfig | None) -> Path:
    path = root / name / version
    path.mkdir(parents=True)
    if config is not None:
        dump_config(config, path)
    return path


def test_config_round_trips(tmp_path: Path) -> None:
    config = ModelConfig(name="en-fr", source_language="en", target_language="fr")
    dump_config(config, tmp_path)
    assert load_config(tmp_path) == config


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("name: x\nkind: seq2seq\nbeam: 3\n", "beam"),  # unknown key
        ("name: x\ndecoding: {beam_size: 0}\n", "decoding.beam_size"),
        ("name: x\ndecoding: {beam_size: 2, n_best: 3}\n", "n_best"),
        ("name: x\ndecoding: {beam_size: 9}\nlimits: {max_beam_size: 8}\n", "max_beam_size"),
        ("name: x\nkind: transformer\n", "kind"),
        ("- a list\n", "mapping"),
        ("name: [unclosed\n", "YAML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, mentions: str) -> None:
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert mentions in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing config\.yaml"):
        load_config(tmp_path)


def test_versions_latest_and_not_found(tmp_path: Path) -> None:
    write_version(tmp_path, "m", "1", ModelConfig(name="m"))
    write_version(tmp_path, "m", "3", ModelConfig(name="m"))
    write_version(tmp_path, "m", "4", None)  # half-written: no config.yaml, not a version
    write_version(tmp_path, "m", "tmp", ModelConfig(name="m"))
    repo = ModelRepository(tmp_path)
    assert repo.model_names() == ["m"]
    assert repo.versions("m") == [1, 3]
    assert repo.resolve("m").version == 3
    assert repo.resolve("m", 1).version == 1
    with pytest.raises(NotFoundError, match=r"versions: \[1, 3\]"):
        repo.resolve("m", 2)
    with pytest.raises(NotFoundError, match="'other' not found"):
        repo.resolve("other")
