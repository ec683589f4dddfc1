"""The evaluation set behind bench/redaction_eval.py: one seed, one set, in any process.

Its figures are quoted in docs/redaction.md; they can only be re-checked if the set does not
depend on the process's string hash seed or on the date the bench runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_DIGEST = (
    "import hashlib\n"
    "from redaction._evalset import generate\n"
    "samples = generate(20250611, 120)\n"
    "print(hashlib.sha256(repr([(s.text, s.spans) for s in samples]).encode()).hexdigest())\n"
)


def _digest(hash_seed: str, fake_now: str | None = None) -> str:
    code = _DIGEST
    if fake_now is not None:
        # Faker draws dates "up to now" from datetime.now(): move now, as a later run would see it.
        code = (
            "import datetime, faker.providers.date_time as dt\n"
            "class _Later(datetime.datetime):\n"
            "    @classmethod\n"
            f"    def now(cls, tz=None): return datetime.datetime.fromisoformat({fake_now!r}).replace(tzinfo=tz)\n"
            "dt.datetime = _Later\n" + code
        )
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


def test_one_seed_gives_one_set_whatever_the_hash_seed_or_the_date() -> None:
    first = _digest("1")
    assert len(first) == 64
    assert _digest("2") == first
    assert _digest("3", fake_now="2031-07-04T10:20:30") == first
