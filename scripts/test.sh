#!/usr/bin/env bash
# Set up everything (Debian packages, .venv, the speech model), then run the whole test suite:
# ruff and mypy on voice/, then pytest, including the end-to-end tests that use the real model,
# real espeak-ng speech and virtual PulseAudio devices.
#
# Usage: scripts/test.sh [pytest arguments…]     e.g. scripts/test.sh -k kiosk -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
say() { printf '[test] %s\n' "$*"; }
say "ruff check"
.venv/bin/ruff check voice tests benchmarks
say "mypy voice"
.venv/bin/mypy voice
say "pytest"
exec .venv/bin/pytest "$@"
