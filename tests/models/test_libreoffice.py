"""Pairing LibreOffice help pages by element id, on synthetic pages (no Debian package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.models.data import libreoffice
from seqserve.models.data.debian import PackageUnavailableError, fetch_debs
from seqserve.models.data.html_text import extract_units

PAGE = """<!DOCTYPE html><html><head><title>{title}</title>
<script>var x = "<p id='par_id0'>not text</p>";</script></head><body>
<div id="DisplayArea">
<h1 id="hd_id1" dir="auto">{heading}</h1>
<p id="par_id2" class="paragraph">{para_start} <span class="emph">{emph}</span>
  {para_end}</p>
<p id="par_id3" class="paragraph">Press <span class="switchinline"><span hidden="true"
 id="MACtext_1" class="MAC"><span class="keycode">Command</span></span><span hidden="true"
 id="defaulttext_1"><span class="keycode">Ctrl</span></span></span><span class="keycode">+F</span>
 {find}</p>
<table><tr><td><p id="par_id4" class="tablecontent">{cell}<br>{cell2}</p></td></tr></table>
<p id="bm_id5" class="bm">bookmark, not a unit</p>
<p id="par_id6">LibreOffice</p>
<pre><code>Sub Main</code></pre>
<div class="embedded"><h1 id="hd_id1">{heading}</h1></div>
{extra}
</div></body></html>"""

EN = dict(
    title="Tables",
    heading="Inserting Tables",
    para_start="Choose",
    emph="Table - Insert",
    para_end="to open\n the dialog.",
    find="to find text.",
    cell="Deletes the row.",
    cell2="Undo with Ctrl+Z.",
    extra='<p id="par_id7">Only in English.</p>',
)
FR = dict(
    title="Tableaux",
    heading="Insérer des tableaux",
    para_start="Choisissez",
    emph="Tableau - Insérer",
    para_end="pour ouvrir la boîte de dialogue.",
    find="pour rechercher du texte.",
    cell="Supprime la ligne.",
    cell2="Annulez avec Ctrl+Z.",
    extra="",
)


def test_extract_units_skips_scripts_bookmarks_and_platform_variants() -> None:
    units = extract_units(PAGE.format(**EN))
    assert set(units) == {"hd_id1", "par_id2", "par_id3", "par_id4", "par_id6", "par_id7"}
    assert "Command" not in units["par_id3"] and "Ctrl" in units["par_id3"]


def _tree(root: Path, pages: dict[str, dict[str, str]]) -> Path:
    for rel, fields in pages.items():
        path = root / "text" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGE.format(**fields), encoding="utf-8")
    return root / "text"


def test_pair_trees(tmp_path: Path) -> None:
    en = _tree(tmp_path / "en-US", {"swriter/a.html": EN, "swriter/only_en.html": EN})
    fr = _tree(tmp_path / "fr", {"swriter/a.html": FR})
    pairs = libreoffice.pair_trees(en, fr)
    assert pairs == [
        ("Inserting Tables", "Insérer des tableaux"),
        (
            "Choose Table - Insert to open the dialog.",
            "Choisissez Tableau - Insérer pour ouvrir la boîte de dialogue.",
        ),
        ("Press Ctrl+F to find text.", "Press Ctrl+F pour rechercher du texte."),
        ("Deletes the row. Undo with Ctrl+Z.", "Supprime la ligne. Annulez avec Ctrl+Z."),
    ]  # identical ("LibreOffice") and one-sided (par_id7, only_en.html) units are dropped


def test_help_roots_prefers_unpacked_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libreoffice, "SYSTEM_HELP", tmp_path / "absent")
    help_dir = tmp_path / "cache" / "unpacked" / libreoffice.HELP_SUBDIR
    _tree(help_dir / "en-US", {"a.html": EN})
    _tree(help_dir / "fr", {"a.html": FR})

    def no_fetch(*args: object) -> None:
        raise AssertionError("must not download when the cache is unpacked")

    monkeypatch.setattr(libreoffice, "fetch_debs", no_fetch)
    assert len(libreoffice.load_libreoffice(cache_dir=tmp_path / "cache")) == 4


def test_missing_apt_get_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(PackageUnavailableError) as info:
        fetch_debs(libreoffice.PACKAGES, tmp_path / "debs", tmp_path / "unpacked")
    message = str(info.value)
    assert "apt-get download libreoffice-help-en-us libreoffice-help-fr" in message
    assert "dpkg-deb -x" in message
