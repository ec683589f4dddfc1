#!/usr/bin/env bash
# The one test command, used by the README and by CI: lint, type-check, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""
.venv/bin/ruff check .
.venv/bin/ruff format --check collector redaction audit_ui tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
