#!/usr/bin/env bash
# Set up everything (Debian packages, .venv, the speech model), then answer the bundled
# recorded question as the kiosk would: recognise it, match it, print the reply, and write the
# spoken reply to answer.wav.
#
# Usage: scripts/demo.sh [AUDIO_FILE]   (default: samples/will-it-make-me-feel-sick.wav)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh >&2
SAMPLE="${1:-samples/will-it-make-me-feel-sick.wav}"
printf '[demo] Answering %s\n' "$SAMPLE" >&2
status=0
RESULT="$(.venv/bin/voice ask --json "$SAMPLE")" || status=$?
REPLY="$(printf '%s\n' "$RESULT" | .venv/bin/python -c '
import json, sys
r = json.loads(sys.stdin.readline())
if r["error"]:
    print(r["error"], file=sys.stderr)
    sys.exit(0)
print("heard:  " + repr(r["transcript"]), file=sys.stderr)
if r["action"] == "answer":
    print("answer (" + r["entry_id"] + "): " + r["question"], file=sys.stderr)
    print(r["answer"])
elif r["action"] == "confirm":
    print("Did you mean: " + r["question"] + " Please say yes or no.")
elif r["action"] == "command":
    print("(the control phrase: " + r["command"] + ")", file=sys.stderr)
else:
    print("I am sorry, I do not have an answer to that. Please ask a member of staff.")
')"
if [ -n "$REPLY" ]; then
    printf '%s\n' "$REPLY"
    .venv/bin/voice say "$REPLY" --out answer.wav >/dev/null
    printf '[demo] The spoken reply is in answer.wav (play it with: aplay answer.wav)\n' >&2
fi
exit "$status"
