"""Every setting of every package is documented, with a description (Datasette's rule)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from gen_config_docs import env_name, settings_classes  # noqa: E402


def test_every_setting_is_described_and_listed_in_the_docs() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    classes = settings_classes()
    names = {cls.__name__ for cls in classes}
    assert {"AuditSettings", "RedactionSettings"} <= names
    missing, undescribed = [], []
    for cls in classes:
        for field, info in cls.model_fields.items():
            if f"`{env_name(cls, field)}`" not in page:
                missing.append(env_name(cls, field))
            if not (info.description or "").strip():
                undescribed.append(f"{cls.__name__}.{field}")
    assert missing == [], "run: .venv/bin/python scripts/gen_config_docs.py"
    assert undescribed == []
