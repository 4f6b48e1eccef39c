"""`voice ask` prints each result as soon as it and the inputs before it are done, and SIGTERM
stops it between whole lines (exit 143) without losing the answers already found."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice.ask.record import JSON_FIELDS
from voice.errors import ModelError
from voice.hearing.model import locate_model

pytestmark = pytest.mark.e2e

VOICE = str(Path(sys.executable).with_name("voice"))
REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "will-it-make-me-feel-sick.wav"


@pytest.fixture(scope="module")
def babble(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four minutes of loud noise: seconds to decode, the slow file behind the quick one."""
    try:
        locate_model()
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")
    path = tmp_path_factory.mktemp("stream") / "babble.wav"
    noise = np.random.default_rng(16).normal(0, 0.2, 16000 * 240).clip(-1, 1)
    sf.write(path, noise, 16000, subtype="PCM_16")
    return path


def start_ask(*files: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [VOICE, "ask", "--json", *map(str, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )


def test_a_result_is_printed_before_the_slow_file_after_it_is_done(babble: Path) -> None:
    process = start_ask(SAMPLE, babble)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        try:
            process.wait(timeout=3)  # the babble alone takes far longer than this to decode
        except subprocess.TimeoutExpired:
            still_running = True
        else:
            still_running = False
    finally:
        process.kill()
        process.wait()
    assert json.loads(first)["entry_id"] == "how-you-feel"
    assert still_running  # the line came while the babble was still being decoded


def test_sigterm_finishes_the_line_and_exits_143(babble: Path) -> None:
    process = start_ask(SAMPLE, babble, SAMPLE)
    assert process.stdout is not None
    first = process.stdout.readline()
    time.sleep(0.5)  # now decoding the babble
    process.send_signal(signal.SIGTERM)
    rest, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert rest == ""
    result = json.loads(first)
    assert list(result) == list(JSON_FIELDS) and first.endswith("\n")
    assert result["entry_id"] == "how-you-feel"
    assert stderr == "voice: stopped (SIGTERM); the results printed are complete.\n"
