"""Extract the text of id-carrying paragraphs and headings from one help page (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# LibreOffice help gives every translatable unit an id: par_id... on paragraphs
# (also inside table cells) and hd_id... on headings. Other ids (bm_id bookmarks,
# page chrome like "DisplayArea") are not translation units.
ID_PREFIXES = ("par_id", "hd_id")
UNIT_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
# Text inside these never belongs to a sentence (code listings, scripts).
SKIP_TAGS = frozenset({"script", "style", "pre", "code"})
# Elements without an end tag: never pushed on the open-element stack.
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class _Frame:
    tag: str
    skip: bool
    unit_id: str | None = None
    parts: list[str] = field(default_factory=list)


def _skips(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in SKIP_TAGS:
        return True
    # Platform/application switches ("Command" on macOS vs "Ctrl") are hidden
    # spans; only the one whose id starts with "default" is the text a reader sees
    # by default. Keeping all of them glues variants together ("CommandCtrl").
    return "hidden" in attrs and not (attrs.get("id") or "").startswith("default")


class _UnitParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: dict[str, str] = {}
        self._stack: list[_Frame] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data(" ")
        if tag in VOID_TAGS:
            return
        attr = dict(attrs)
        unit_id = attr.get("id") or ""
        is_unit = tag in UNIT_TAGS and unit_id.startswith(ID_PREFIXES)
        self._stack.append(_Frame(tag, _skips(tag, attr), unit_id if is_unit else None))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the most recent element with this tag; a stray end tag with
        # no open element is ignored, as browsers do.
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i].tag == tag:
                for frame in reversed(self._stack[i:]):
                    self._close(frame)
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if any(frame.skip for frame in self._stack):
            return
        for frame in self._stack:
            if frame.unit_id is not None:
                frame.parts.append(data)

    def close(self) -> None:
        super().close()
        for frame in reversed(self._stack):
            self._close(frame)
        self._stack.clear()

    def _close(self, frame: _Frame) -> None:
        if frame.unit_id is not None:
            # An id repeated in one page is an embedded copy of the same unit.
            self.units.setdefault(frame.unit_id, "".join(frame.parts))


def extract_units(html: str) -> dict[str, str]:
    """Map element id -> raw text (whitespace not yet normalised) for one page."""
    parser = _UnitParser()
    parser.feed(html)
    parser.close()
    return parser.units
