"""A small real translation task: English number words -> French number words.

The rules (French "soixante-dix", "quatre-vingts", "et un") are real and learnable,
so a tiny model trained for a minute has a held-out score that means something.
"""

from __future__ import annotations

from num2words import num2words

from seqserve.models.data.pairs import Pair


def number_pairs(
    limit: int = 10_000, source_lang: str = "en", target_lang: str = "fr"
) -> list[Pair]:
    """Pairs for every integer in [0, limit), e.g. ('twenty-one', 'vingt et un')."""
    return [(num2words(n, lang=source_lang), num2words(n, lang=target_lang)) for n in range(limit)]
