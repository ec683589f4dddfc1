"""The `redact` CLI module on stdin/stdout: in process and as a subprocess."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys

from collector._cli import redact


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    redact.add_parser(parser.add_subparsers())
    return parser.parse_args(["redact", *argv])


def test_redaction_cli_jsonl_in_process() -> None:
    lines = [json.dumps({"id": 1, "text": "mail jane@corp.io"}), "not json", json.dumps({"id": 2})]
    out = io.StringIO()
    code = redact.run(_args("--jsonl", "--tenant", "t"), io.StringIO("\n".join(lines) + "\n"), out)
    got = out.getvalue().splitlines()
    assert json.loads(got[0]) == {"id": 1, "text": "mail <EMAIL_ADDRESS>"}
    assert "not json" not in got[1]
    assert json.loads(got[2]) == {"id": 2}
    assert code == 1  # the bad line is reported through the exit code


def test_redaction_cli_text_subprocess() -> None:
    code = "from collector._cli.redact import run; import argparse, sys; sys.exit(run(argparse.Namespace(tenant='default', jsonl=False, policy=None)))"  # noqa: E501
    env = {**os.environ, "REDACTION_NER": "false"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input="key AKIAIOSFODNN7EXAMPLE, +44 20 7946 0958\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout == "key <API_KEY>, <PHONE_NUMBER>\n"
