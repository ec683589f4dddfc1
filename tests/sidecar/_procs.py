"""Helpers to run a sidecar and remote-mode apps as real processes on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-ingest-token-5f2c9a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out.update({"PYTHONPATH": str(ROOT), "AUDIT_INGEST_TOKEN": TOKEN, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""})
    out.update(extra)
    return out


class Sidecar:
    """`autogen-audit serve --ingest-only` in its own process; stop() flushes it (SIGTERM)."""

    def __init__(self, dsn: str, log_path: Path, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "--dsn", dsn, "serve", "--ingest-only", "--port", str(self.port)],
            env=env(**extra_env),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sidecar exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("sidecar did not start")

    def health(self) -> dict[str, object]:
        data: dict[str, object] = httpx.get(f"{self.url}/healthz", timeout=5).json()
        return data

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return int(self.proc.returncode)
