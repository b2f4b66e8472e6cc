"""The source<TAB>target loader and writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.models.data import read_tsv, write_tsv
from seqserve.models.data.tsv import TsvFormatError


def test_read_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("Hello\tBonjour\n\n  \nOpen file\tOuvrir le fichier\r\n", encoding="utf-8")
    assert read_tsv(path) == [("Hello", "Bonjour"), ("Open file", "Ouvrir le fichier")]


def test_malformed_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("a\tb\nno tab here\n", encoding="utf-8")
    with pytest.raises(TsvFormatError, match=r"bad.tsv:2"):
        read_tsv(path)


def test_write_read_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.tsv"
    write_tsv(path, [("a\tb", "c\nd"), ("élan", "naïve")])
    assert read_tsv(path) == [("a b", "c d"), ("élan", "naïve")]
