#!/usr/bin/env bash
# Set up everything (Debian packages, .venv, the speech model), then run the whole test suite:
# ruff and mypy (strict) on voice/, tests/ and benchmarks/, then pytest, including the end-to-end tests that use the real model,
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
say "mypy voice tests benchmarks"
# tests/ is on the path for the benchmarks, which import its speech generator and harness.
MYPYPATH=tests .venv/bin/mypy voice tests benchmarks
say "pytest"
exec .venv/bin/pytest "$@"
