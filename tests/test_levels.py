"""Tests for the level meters, against the separate meters they replaced (pure logic, random PCM).

The references below are the three meters as they were before voice/audio/levels.py became the
one home for level measurement; the new code must give bit-identical numbers.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from voice.audio.levels import FrameLevels, frame_dbfs, frame_power, rms_dbfs
from voice.kiosk.echo import SILENT_DB, frame_levels

RNG = np.random.default_rng(2024)
Floats = npt.NDArray[np.float64]


def old_rms_dbfs(data: bytes) -> float:
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    if samples.size == 0:
        return -math.inf
    mean_square = float(np.mean(np.square(samples, dtype=np.float64)))
    return -math.inf if mean_square == 0.0 else 10.0 * math.log10(mean_square)


def old_frame_levels_stream(chunks: list[bytes], frame: int = 160) -> Floats:
    carry = np.zeros(0, dtype=np.float64)
    out = []
    for data in chunks:
        fresh = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.float64)
        samples = np.concatenate([carry, fresh])
        n = len(samples) // frame
        carry = samples[n * frame :]
        frames = samples[: n * frame].reshape(n, frame) / 32768.0
        out.append(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12))
    return np.concatenate(out)


def old_echo_frame_levels(samples: npt.NDArray[np.int16], rate: int, gain: float) -> list[float]:
    n = max(1, int(rate * 0.05))
    x = samples.astype(np.float64) * (gain / 32768.0)
    levels = []
    for i in range(0, len(x), n):
        frame = x[i : i + n]
        rms = math.sqrt(float(np.mean(frame * frame))) if len(frame) else 0.0
        levels.append(20 * math.log10(rms) if rms > 1e-9 else SILENT_DB)
    return levels


def random_int16(n: int) -> npt.NDArray[np.int16]:
    """Noise at a random level, with stretches of digital silence and of clipping."""
    level = 10 ** RNG.uniform(-5, 0)
    samples = RNG.standard_normal(n) * level * 32768
    if n > 100:
        start = int(RNG.integers(0, n - 50))
        samples[start : start + int(RNG.integers(1, 50))] = 0
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("trial", range(40))
def test_rms_dbfs_matches_the_old_meter_exactly(trial: int) -> None:
    length = int(RNG.integers(0, 4000)) if trial else 0
    data = random_int16(length).astype("<i2").tobytes()
    assert rms_dbfs(data) == old_rms_dbfs(data)
    assert rms_dbfs(bytes(2 * length)) == old_rms_dbfs(bytes(2 * length)) == -math.inf


@pytest.mark.parametrize("trial", range(20))
def test_streamed_frame_levels_match_the_old_meter_exactly(trial: int) -> None:
    data = random_int16(int(RNG.integers(0, 16000))).astype("<i2").tobytes()
    cuts = np.sort(RNG.integers(0, len(data) + 1, int(RNG.integers(0, 30))))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    meter = FrameLevels()
    new = np.concatenate([np.zeros(0), *(meter.feed(chunk) for chunk in chunks)])
    assert np.array_equal(new, old_frame_levels_stream(chunks))


@pytest.mark.parametrize("trial", range(40))
def test_echo_frame_levels_match_the_old_meter_exactly(trial: int) -> None:
    samples = random_int16(int(RNG.integers(0, 30000)))
    rate = int(RNG.choice([8000, 16000, 22050, 44100, 48000, 10]))
    gain = float(RNG.choice([1.0, 0.0, RNG.uniform(0.0, 2.0)]))
    assert frame_levels(samples, rate, gain) == old_echo_frame_levels(samples, rate, gain)


def test_float_samples_measure_like_the_same_int16_samples() -> None:
    ints = random_int16(3210)
    floats = ints.astype(np.float32) / np.float32(32768.0)
    assert np.array_equal(frame_power(floats, 160), frame_power(ints, 160))
    assert np.array_equal(frame_dbfs(floats, 160, 0.5), frame_dbfs(ints, 160, 0.5))


def test_frame_levels_of_known_signals() -> None:
    square = np.tile(np.array([32767, -32767], dtype=np.int16), 160)
    levels = frame_dbfs(square, 160)
    assert len(levels) == 2
    assert levels == pytest.approx([0.0, 0.0], abs=0.01)
    assert frame_dbfs(square, 160, gain=0.5) == pytest.approx([-6.02, -6.02], abs=0.01)
    # A short last frame is measured too; digital silence sits at about -120 dBFS.
    assert frame_dbfs(np.zeros(170, dtype=np.int16), 160) == pytest.approx([-120.0, -120.0])
    assert len(frame_power(np.zeros(0, dtype=np.int16), 160)) == 0
