"""`seqserve train|export tagger|captioner` dispatch without touching the translation flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.export import cli as export_cli
from seqserve.models import cli as train_cli


@pytest.mark.parametrize("kind", ["tagger", "captioner"])
def test_kind_subcommands_have_their_own_help(kind: str, capsys: pytest.CaptureFixture) -> None:
    for main in (train_cli.main, export_cli.main):
        with pytest.raises(SystemExit) as exited:
            main([kind, "--help"])
        assert exited.value.code == 0
        assert f"{kind}" in capsys.readouterr().out


def test_tagger_training_names_a_missing_treebank(tmp_path: Path, capsys) -> None:
    code = train_cli.main(["tagger", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_translation_flags_still_parse() -> None:
    with pytest.raises(SystemExit) as exited:
        train_cli.main(["--help"])
    assert exited.value.code == 0
