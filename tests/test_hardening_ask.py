"""`voice ask --json` with hostile files between good ones: each bad file gets one sentence in
``error`` (exit 1), and the good files around it are still answered."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

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
SAMPLE_ENTRY = "how-you-feel"


def with_rate(target: Path, rate: int) -> Path:
    """The sample with another sample rate (and matching byte rate) in its header."""
    raw = bytearray(SAMPLE.read_bytes())
    struct.pack_into("<II", raw, 24, rate, 2 * rate % 2**32)
    target.write_bytes(bytes(raw))
    return target


def long_tone(target: Path, seconds: float) -> Path:
    rate = 8000
    t = np.arange(int(rate * seconds)) / rate
    sf.write(target, 0.1 * np.sin(2 * np.pi * 300 * t), rate, subtype="PCM_16")
    return target


def cut_in_half(target: Path) -> Path:
    """The sample with its last half missing; the header still promises all of it."""
    raw = SAMPLE.read_bytes()
    target.write_bytes(raw[: len(raw) // 2])
    return target


def fifo(target: Path) -> Path:
    os.mkfifo(target)
    return target


def link_loop(target: Path) -> Path:
    other = target.with_name("loop_other.wav")
    target.symlink_to(other)
    other.symlink_to(target)
    return target


def nan_samples(target: Path) -> Path:
    samples = np.full(16000, 0.1, dtype=np.float32)
    samples[100] = np.nan
    sf.write(target, samples, 16000, subtype="FLOAT")
    return target


def run_ask(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [VOICE, "ask", "--json", *args],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


@pytest.fixture(scope="module")
def model() -> Path:
    try:
        return locate_model()
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")


@pytest.fixture(scope="module")
def batch(model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `voice ask` run over good, hostile, good: its exit code and results by name."""
    folder = tmp_path_factory.mktemp("hostile")
    hostile = {
        "rate_1hz": with_rate(folder / "rate_1hz.wav", 1),
        "rate_1mhz": with_rate(folder / "rate_1mhz.wav", 1_000_003),
        "rate_2ghz": with_rate(folder / "rate_2ghz.wav", 2_147_483_647),
        "too_long": long_tone(folder / "too_long.wav", 30.0),
        "truncated": cut_in_half(folder / "truncated.wav"),
        "fifo": fifo(folder / "fifo.wav"),
        "link_loop": link_loop(folder / "link_loop.wav"),
        "nan": nan_samples(folder / "nan.wav"),
    }
    names = ["good_first", *hostile, "good_last"]
    paths = [SAMPLE, *hostile.values(), SAMPLE]
    code, results, stderr = run_ask("--max-seconds", "20", *map(str, paths))
    assert len(results) == len(names), stderr
    return {"code": code, "stderr": stderr, **dict(zip(names, results, strict=True))}


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message.rstrip(".") and "\n" not in message


def test_the_batch_exits_1_and_still_answers_the_good_files(batch: dict[str, Any]) -> None:
    assert batch["code"] == 1
    for name in ("good_first", "good_last"):
        assert list(batch[name]) == list(JSON_FIELDS)
        assert batch[name]["error"] is None
        assert batch[name]["entry_id"] == SAMPLE_ENTRY
    # Nothing but the closing line: no numpy warnings, no decoder notes, no traceback.
    assert batch["stderr"] == "Some files could not be read; see the error field of each.\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rate_1hz", "rate_1hz.wav has a damaged header: its sample rate of 1 Hz"),
        ("rate_1mhz", "rate_1mhz.wav has a damaged header: its sample rate of 1,000,003 Hz"),
        ("rate_2ghz", "rate_2ghz.wav has a damaged header: its sample rate of 2,147,483,647 Hz"),
        ("too_long", "too_long.wav lasts 30 s, longer than the 20 s allowed for one question"),
        ("truncated", "truncated.wav is cut off: its header promises 2.5 s of sound but only"),
        ("fifo", "fifo.wav is a named pipe (FIFO), not a recording saved in a file"),
        ("link_loop", "link_loop.wav is a symbolic link that leads back to itself"),
        ("nan", "nan.wav is damaged: some of its samples are not numbers"),
    ],
)
def test_each_hostile_file_gets_one_sentence(
    batch: dict[str, Any], name: str, expected: str
) -> None:
    result = batch[name]
    assert list(result) == list(JSON_FIELDS)
    assert result["action"] == "decline" and result["reason"] == "input_error"
    assert result["error"].startswith(expected)
    assert one_sentence(result["error"])


def test_max_seconds_must_be_a_positive_number() -> None:
    for bad in ("0", "-3", "nan", "soon"):
        done = subprocess.run(
            [VOICE, "ask", "--max-seconds", bad, "--text", "hello"],
            capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
        )
        assert done.returncode == 2
        assert "--max-seconds" in done.stderr
