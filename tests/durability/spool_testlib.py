"""Helpers shared by the spool tests (a module of its own: importing from conftest is fragile)."""

from __future__ import annotations

from pathlib import Path

from collector._spool import Spool


def records_of(spool: Spool) -> list[tuple[bytes, ...]]:
    return [batch.records for batch in spool.pending()]


def segment_logs(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.log"))
