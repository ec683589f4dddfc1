"""Every relative link in README.md and docs/ resolves: the file exists and the #anchor is a heading of it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SECTIONS = DOCS / "readme-sections"  # spliced into README.md, so their links are relative to the root
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+?)\s*#*$", re.MULTILINE)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted(SECTIONS.glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats."""
    found: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = 0
        while (f"{slug}-{n}" if n else slug) in found:
            n += 1
        found.add(f"{slug}-{n}" if n else slug)
    return found


def links(page: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # not http:, mailto:


def broken_links() -> list[str]:
    problems = []
    for page in pages():
        base = ROOT if page.parent == SECTIONS else page.parent
        for target in links(page):
            path, _, anchor = target.partition("#")
            dest = (base / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                problems.append(f"{where} no such file")
            elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
                problems.append(f"{where} no such heading in {dest.relative_to(ROOT)}")
    return problems


def test_every_doc_link_resolves() -> None:
    assert broken_links() == []


def test_the_checker_sees_links_and_anchors() -> None:
    # Guards the parser: if it matched nothing, the test above would pass vacuously.
    assert sum(len(links(page)) for page in pages()) >= 30
    assert "retention-and-legal-holds" in anchors(DOCS / "integrity.md")
    assert "raw-content-in-the-apps-own-logs" in anchors(DOCS / "capture.md")
    assert "docs/img/timeline.png" in links(SECTIONS / "ui.md")
