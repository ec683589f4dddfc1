"""The in-process pipeline moves its long-lived objects out of the app's full garbage collections.

Runs in a fresh interpreter: gc.freeze() is process-wide and happens once per process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from collector import AuditHook, AuditSettings, Store, build_pipeline

    out = {}
    remote = AuditHook.from_env(sidecar_url="http://127.0.0.1:9", ingest_token="t" * 32, capture_loggers=False)
    out["after_remote_hook"] = gc.get_freeze_count()
    asyncio.run(remote.aclose(1))

    store = Store.open(f"chdb://{sys.argv[1]}/store")  # chDB serves one path per process: shared
    off = AuditSettings(store_dsn=store.dsn, gc_freeze=False, capture_loggers=False)
    pipeline = build_pipeline(off, store=store)
    out["after_pipeline_off"] = gc.get_freeze_count()
    out["scanned_before"] = len(gc.get_objects())
    pipeline.shutdown(10)

    on = AuditSettings(store_dsn=store.dsn, capture_loggers=False)
    pipeline = build_pipeline(on, store=store)
    out["after_pipeline_on"] = gc.get_freeze_count()
    out["scanned_after"] = len(gc.get_objects())
    pipeline.shutdown(10)

    pipeline = build_pipeline(on, store=store)
    out["after_second_pipeline"] = gc.get_freeze_count()
    from collector._gc_freeze import freeze_loaded_objects
    out["second_call_froze"] = freeze_loaded_objects()
    pipeline.shutdown(10)
    store.close()
    print(json.dumps(out))
    """
)


def test_in_process_pipeline_freezes_loaded_objects_once_and_remote_mode_never(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_remote_hook"] == 0  # remote mode loads no models: the app's collector is left alone
    assert out["after_pipeline_off"] == 0  # AUDIT_GC_FREEZE=false is honoured
    # Presidio, spaCy, clickhouse-connect and chDB: well over 50k objects leave the full scans.
    assert out["after_pipeline_on"] > 50_000
    assert out["scanned_after"] < out["scanned_before"] / 4
    # Once per process: a second freeze would take the second pipeline and everything since (thousands).
    assert out["second_call_froze"] == 0
    assert out["after_second_pipeline"] - out["after_pipeline_on"] < 1000
