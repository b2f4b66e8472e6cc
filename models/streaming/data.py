"""Real data for the streaming models, all shipped offline (FACTS.md).

- co2: statsmodels' weekly Mauna Loa CO2 series (1958-2001, 2,284 weeks); the
  59 missing weeks are linearly interpolated.
- English text: the English side of the LibreOffice help (the translation
  corpus), one paragraph per line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

CO2_SEASON = 52
"""Weeks per seasonal cycle (the seasonal-naive baseline's lag)."""


def load_co2() -> np.ndarray:
    import statsmodels.api as sm  # training-only dependency (the `train` extra)

    series = sm.datasets.co2.load_pandas().data["co2"].interpolate()
    return series.to_numpy(dtype=np.float64)


TEXT_CACHE = Path("~/.cache/seqserve/libreoffice-en.txt")


def load_english_text(max_chars: int | None = None) -> str:
    """The English paragraphs, cached as plain text (parsing the HTML takes ~15 s)."""
    cache = TEXT_CACHE.expanduser()
    if cache.is_file():
        text = cache.read_text(encoding="utf-8")
    else:
        from seqserve.models.data.libreoffice import help_roots, pair_trees

        english, french = help_roots()
        lines = [source for source, _ in pair_trees(english, french)]
        # Repeated UI strings ("Choose Edit - Copy") would leak between splits and
        # flatter the held-out score; keep each paragraph once, in corpus order.
        text = "\n".join(dict.fromkeys(lines)) + "\n"
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cache)
    return text[:max_chars] if max_chars else text


UNK = "\x00"
"""Vocabulary entry 0: every character outside the vocabulary maps to it."""


def char_vocabulary(text: str, size: int) -> list[str]:
    """UNK plus the `size - 1` most frequent characters (ties by code point)."""
    counts = Counter(text)
    ranked = sorted(counts, key=lambda ch: (-counts[ch], ch))
    return [UNK, *[ch for ch in ranked if ch != UNK][: size - 1]]


def encode_chars(text: str, vocab: list[str]) -> np.ndarray:
    index = {ch: i for i, ch in enumerate(vocab)}
    return np.fromiter((index.get(ch, 0) for ch in text), dtype=np.int64, count=len(text))
