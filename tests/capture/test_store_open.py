"""Opening stores: one owner process per chDB path, one chDB path per process, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collector import AuditHook, Store, StoreError, StoreLockedError


def test_a_store_owned_by_another_process_is_reported_as_locked(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys, clickhouse_connect; c = clickhouse_connect.get_client(dsn={dsn!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],  # fmt: skip
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError, match="owned by another process"):
            Store.open(dsn)
    finally:
        owner.kill()
        owner.wait()


async def test_hook_from_env_releases_its_store_on_aclose(tmp_path: Path) -> None:
    first = AuditHook.from_env(store_dsn=f"chdb://{tmp_path / 'a'}", capture_loggers=False)
    with pytest.raises(StoreError, match="one path per process"):
        Store.open(f"chdb://{tmp_path / 'b'}")
    assert await first.aclose()
    second = Store.open(f"chdb://{tmp_path / 'b'}")  # possible only because aclose() closed the first
    second.close()
