"""Helpers shared by the spool tests (a module of its own: importing from conftest is fragile)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from collector._spool import Spool


@contextmanager
def small_tmpfs(tmp_path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "192k") under tmp_path, so ENOSPC comes from the real kernel.
    Skips the test where mounting is not permitted."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): {proc.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def records_of(spool: Spool) -> list[tuple[bytes, ...]]:
    return [batch.records for batch in spool.pending()]


def segment_logs(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.log"))
