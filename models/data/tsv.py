"""`source<TAB>target` files: user corpora, and the held-out splits written next to a model."""

from __future__ import annotations

from pathlib import Path

from seqserve.models.data.pairs import Pair


class TsvFormatError(ValueError):
    """A line that is not exactly two tab-separated fields."""


def read_tsv(path: str | Path) -> list[Pair]:
    """Read pairs; blank lines are skipped, any other malformed line is an error naming it."""
    pairs: list[Pair] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 2:
                raise TsvFormatError(
                    f"{path}:{number}: expected 'source<TAB>target', got {len(fields)} field(s)"
                )
            pairs.append((fields[0], fields[1]))
    return pairs


def write_tsv(path: str | Path, pairs: list[Pair]) -> None:
    """Write pairs; tabs and newlines inside a sentence become spaces so the file reads back."""
    with open(path, "w", encoding="utf-8") as f:
        for src, tgt in pairs:
            f.write(f"{_one_field(src)}\t{_one_field(tgt)}\n")


def _one_field(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())
