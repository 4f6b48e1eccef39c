#!/usr/bin/env bash
# Set up everything (Debian packages, .venv, the speech model), then answer the bundled
# recorded question, as the kiosk would: recognise it, match it, print the answer, and write
# the spoken answer to answer.wav.
#
# Usage: scripts/demo.sh [AUDIO_FILE]   (default: samples/will-it-make-me-feel-sick.wav)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh >&2
SAMPLE="${1:-samples/will-it-make-me-feel-sick.wav}"
printf '[demo] Answering %s\n' "$SAMPLE" >&2
.venv/bin/voice ask "$SAMPLE"
ANSWER="$(.venv/bin/voice ask --json "$SAMPLE" | .venv/bin/python -c \
    'import json,sys; r=json.loads(sys.stdin.readline()); print(r["answer"] or "")')"
if [ -n "$ANSWER" ]; then
    .venv/bin/voice say "$ANSWER" --out answer.wav >/dev/null
    printf '[demo] The spoken answer is in answer.wav (play it with: aplay answer.wav)\n' >&2
fi
