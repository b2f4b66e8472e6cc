"""Sentence pairs: the one type every corpus loader returns, plus cleaning helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable

Pair = tuple[str, str]
"""(source sentence, target sentence)."""

_WHITESPACE = re.compile(r"\s+")


def normalise_space(text: str) -> str:
    """Collapse runs of whitespace (HTML source layout, non-breaking spaces) to one space."""
    return _WHITESPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def clean_pairs(pairs: Iterable[Pair], max_words: int = 80) -> list[Pair]:
    """Normalise whitespace, drop empty / identical / over-long pairs, dedupe (order kept).

    Identical pairs are mostly untranslated names, menu paths and code; a model
    learns to copy from them instead of translating, so they are dropped.
    """
    seen: set[Pair] = set()
    out: list[Pair] = []
    for src, tgt in pairs:
        pair = (normalise_space(src), normalise_space(tgt))
        if not pair[0] or not pair[1] or pair[0] == pair[1] or pair in seen:
            continue
        if len(pair[0].split()) > max_words or len(pair[1].split()) > max_words:
            continue
        seen.add(pair)
        out.append(pair)
    return out
