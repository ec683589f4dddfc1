"""``autogen-audit redact``: the pipeline's redaction engine and policy as a stdin/stdout filter."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

_BATCH = 256


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "redact",
        help="redact text (or JSONL with a `text` field) from stdin to stdout",
        description="Reads text on stdin and writes it redacted to stdout with the same engine and policy as "
        "the capture pipeline. With --jsonl each line is a JSON object whose `text` field is redacted.",
    )
    p.add_argument("--tenant", default="default", help="tenant whose policy applies (default: %(default)s)")
    p.add_argument("--jsonl", action="store_true", help="input is JSON Lines; redact each line's `text` field")
    p.add_argument("--policy", default=None, help="policy YAML file (default: REDACTION_POLICY_PATH or packaged)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    from redaction import RedactionError, Redactor  # the engine loads spaCy: only when this command runs

    src, dst = stdin or sys.stdin, stdout or sys.stdout
    try:
        redactor = Redactor(policy_path=args.policy)
    except RedactionError as exc:
        print(f"autogen-audit redact: {exc}", file=sys.stderr)
        return 2
    if not args.jsonl:
        outcome = redactor.redact_text(src.read(), args.tenant)
        dst.write(str(outcome.value))
        return 0 if outcome.status == "ok" else 1
    failed = 0
    lines: list[str] = []
    for line in src:
        lines.append(line)
        if len(lines) >= _BATCH:
            failed += _flush(redactor, args.tenant, lines, dst)
            lines = []
    failed += _flush(redactor, args.tenant, lines, dst)
    return 1 if failed else 0


def _flush(redactor: Any, tenant: str, lines: list[str], dst: TextIO) -> int:
    records: list[dict[str, Any] | None] = []
    for line in lines:
        try:
            record = json.loads(line) if line.strip() else None
        except ValueError:
            record = None
        records.append(record if isinstance(record, dict) else None)
    todo = [(tenant, r["text"]) for r in records if r is not None and "text" in r]
    outcomes = iter(redactor.redact_many(todo))
    failed = 0
    for line, record in zip(lines, records, strict=True):
        if record is None:
            if line.strip():
                # A line that is not a JSON object is never echoed: it could hold anything.
                dst.write(json.dumps({"error": "not a JSON object"}) + "\n")
                failed += 1
            continue
        if "text" in record:
            outcome = next(outcomes)
            record["text"] = outcome.value
            failed += outcome.status != "ok"
        dst.write(json.dumps(record, ensure_ascii=False) + "\n")
    return failed
