"""Hostile audio files, read directly: damaged header rates, overlong and cut-off recordings."""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice.audio.files import iter_pcm16, read_pcm16
from voice.errors import AudioError

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "will-it-make-me-feel-sick.wav"


def with_rate(source: Path, target: Path, rate: int) -> Path:
    """A copy of a WAV whose header claims another sample rate (and matching byte rate)."""
    raw = bytearray(source.read_bytes())
    struct.pack_into("<II", raw, 24, rate, 2 * rate % 2**32)
    target.write_bytes(bytes(raw))
    return target


def tone_file(path: Path, rate: int, seconds: float, channels: int = 1) -> Path:
    """A quiet 440 Hz tone at ``rate``."""
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t)
    sf.write(path, np.repeat(mono[:, None], channels, axis=1), rate, subtype="PCM_16")
    return path


@pytest.mark.parametrize("rate", [1, 3_999, 192_001, 1_000_003, 2_147_483_647])
def test_a_header_rate_no_recording_has_is_refused_at_once(tmp_path: Path, rate: int) -> None:
    path = with_rate(SAMPLE, tmp_path / "rate.wav", rate)
    started = time.perf_counter()
    with pytest.raises(AudioError) as caught:
        read_pcm16(path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert message.startswith("rate.wav has a damaged header")
    assert f"{rate:,} Hz" in message
    assert "4,000-192,000 Hz" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence


@pytest.mark.parametrize("rate", [4_000, 4_001, 7_919, 100_003, 191_999, 192_000])
def test_any_rate_in_range_decodes_in_bounded_memory(tmp_path: Path, rate: int) -> None:
    path = tone_file(tmp_path / "tone.wav", rate, 2.0)
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in iter_pcm16(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(total - 2 * 16000 * 2) <= 0.004 * 2 * 16000 * 2  # rates may round by 25 Hz
    # A coprime rate such as 191,999 Hz needed about 1 GB for the resampler's filter table.
    assert peak < 30_000_000


def test_many_channels_are_read_in_bounded_blocks(tmp_path: Path) -> None:
    path = tone_file(tmp_path / "wide.wav", 48_000, 1.0, channels=64)
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in iter_pcm16(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 16000 * 2
    assert peak < 8_000_000


def test_a_recording_longer_than_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tone_file(tmp_path / "long.wav", 8_000, 3.0)
    assert len(read_pcm16(path, max_seconds=3.0)) == 3 * 16000 * 2
    with pytest.raises(AudioError) as caught:
        iter_pcm16(path, max_seconds=2.5)  # no next(): the check is not deferred
    message = str(caught.value)
    assert message == (
        "long.wav lasts 3 s, longer than the 2.5 s allowed for one question, so trim it to "
        "the question (or raise --max-seconds)."
    )


def test_a_low_header_rate_makes_a_short_file_too_long(tmp_path: Path) -> None:
    # 4 kHz is a real rate, but it makes the 16 kHz sample four times as long.
    path = with_rate(SAMPLE, tmp_path / "slow.wav", 4_000)
    seconds = sf.info(str(SAMPLE)).duration
    with pytest.raises(AudioError, match="longer than the"):
        read_pcm16(path, max_seconds=seconds * 2)


def test_max_seconds_must_be_positive(tmp_path: Path) -> None:
    path = tone_file(tmp_path / "tone.wav", 16_000, 0.1)
    with pytest.raises(ValueError, match="max_seconds"):
        iter_pcm16(path, max_seconds=0)


def cut(source: Path, target: Path, keep: float) -> Path:
    """The first ``keep`` of the file's bytes, header untouched."""
    raw = source.read_bytes()
    target.write_bytes(raw[: int(len(raw) * keep)])
    return target


def test_a_wav_cut_to_half_its_data_is_reported(tmp_path: Path) -> None:
    path = cut(SAMPLE, tmp_path / "half.wav", 0.5)
    with pytest.raises(AudioError) as caught:
        iter_pcm16(path)  # before any reading
    message = str(caught.value)
    assert message.startswith("half.wav is cut off: its header promises 2.5 s of sound but only")
    assert message.count(". ") == 0 and message.endswith(".")


def test_a_wav_missing_only_its_pad_byte_is_read(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    sf.write(path, np.zeros(1001, dtype=np.int16), 16000, subtype="PCM_U8")  # odd data size
    raw = path.read_bytes()
    if len(raw) % 2 == 0:
        path.write_bytes(raw[:-1])  # drop the pad byte only
    assert len(read_pcm16(path)) > 0


def test_a_streamed_wav_with_a_placeholder_size_is_read(tmp_path: Path) -> None:
    path = tone_file(tmp_path / "streamed.wav", 16_000, 0.5)
    raw = bytearray(path.read_bytes())
    data_at = raw.index(b"data")
    struct.pack_into("<I", raw, data_at + 4, 0xFFFFFFFF)  # what arecord leaves on a pipe
    path.write_bytes(bytes(raw))
    assert len(read_pcm16(path)) == 8000 * 2


def test_a_cut_flac_is_reported(tmp_path: Path) -> None:
    whole = tmp_path / "whole.flac"
    t = np.arange(16000 * 2) / 16000
    sf.write(whole, 0.3 * np.sin(2 * np.pi * 440 * t), 16000, subtype="PCM_16")
    path = cut(whole, tmp_path / "half.flac", 0.5)
    with pytest.raises(AudioError, match=r"half\.flac (is cut off|could not be read to the end)"):
        read_pcm16(path)
