"""Splice docs/readme-sections/*.md into README.md between the section markers, in a fixed order.

    .venv/bin/python scripts/splice_readme.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["ui", "redaction", "sql", "durability", "sidecar", "integrity", "deploy"]
START, END = "<!-- sections -->", "<!-- /sections -->"


def main() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head, rest = readme.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else rest
    folder = ROOT / "docs" / "readme-sections"
    names = ORDER + sorted(p.stem for p in folder.glob("*.md") if p.stem not in ORDER)
    parts = [(folder / f"{n}.md").read_text(encoding="utf-8").strip() for n in names if (folder / f"{n}.md").exists()]
    body = "\n\n".join(parts)
    (ROOT / "README.md").write_text(f"{head}{START}\n\n{body}\n\n{END}{tail}", encoding="utf-8")
    print(f"spliced {len(parts)} sections")


if __name__ == "__main__":
    main()
