"""English-French pairs from the LibreOffice help pages (Debian packages, MPL-2.0).

The help is translated unit by unit and every page keeps the units' element ids,
so the same id in the same page of two languages is a translation pair (~30k).
"""

from __future__ import annotations

import os
from pathlib import Path

from seqserve.models.data.debian import fetch_debs
from seqserve.models.data.html_text import extract_units
from seqserve.models.data.pairs import Pair, clean_pairs

PACKAGES = ("libreoffice-help-en-us", "libreoffice-help-fr")
SYSTEM_HELP = Path("/usr/share/libreoffice/help")
HELP_SUBDIR = Path("usr/share/libreoffice/help")
DEFAULT_CACHE = Path("~/.cache/seqserve/debs")
CACHE_ENV = "SEQSERVE_DEB_CACHE"


def help_roots(cache_dir: str | Path | None = None) -> tuple[Path, Path]:
    """(en-US dir, fr dir): the installed help if present, else unpacked Debian packages.

    cache_dir defaults to $SEQSERVE_DEB_CACHE or ~/.cache/seqserve/debs.
    """
    if (SYSTEM_HELP / "en-US").is_dir() and (SYSTEM_HELP / "fr").is_dir():
        return SYSTEM_HELP / "en-US", SYSTEM_HELP / "fr"
    cache = Path(cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()
    unpacked = cache / "unpacked"
    help_dir = unpacked / HELP_SUBDIR
    if not ((help_dir / "en-US").is_dir() and (help_dir / "fr").is_dir()):
        fetch_debs(PACKAGES, cache, unpacked)
    return help_dir / "en-US", help_dir / "fr"


def pair_pages(source_html: str, target_html: str) -> list[Pair]:
    """Pairs of units that carry the same id in both versions of one page (raw text)."""
    source_units = extract_units(source_html)
    target_units = extract_units(target_html)
    return [(text, target_units[uid]) for uid, text in source_units.items() if uid in target_units]


def pair_trees(source_root: Path, target_root: Path, max_words: int = 80) -> list[Pair]:
    """Cleaned pairs from every page that exists under both roots (same relative path)."""
    pairs: list[Pair] = []
    # Sorted so the corpus order (and anything seeded downstream) is reproducible.
    for source_page in sorted(source_root.rglob("*.html")):
        target_page = target_root / source_page.relative_to(source_root)
        if not target_page.is_file():
            continue
        pairs.extend(
            pair_pages(
                source_page.read_text(encoding="utf-8", errors="replace"),
                target_page.read_text(encoding="utf-8", errors="replace"),
            )
        )
    return clean_pairs(pairs, max_words=max_words)


def load_libreoffice(cache_dir: str | Path | None = None, max_words: int = 80) -> list[Pair]:
    """The en->fr LibreOffice help corpus, obtained on first use (see help_roots)."""
    en, fr = help_roots(cache_dir)
    return pair_trees(en / "text", fr / "text", max_words=max_words)
