"""Tests for the speech-to-background level of an utterance (pure logic on made-up PCM)."""

from __future__ import annotations

import numpy as np
import pytest

from voice.audio.levels import NoiseMeter

RATE = 16000


def tone(seconds: float, dbfs: float, freq: float = 440.0) -> np.ndarray:
    """A sine whose RMS level is ``dbfs``."""
    t = np.arange(int(RATE * seconds)) / RATE
    samples: np.ndarray = np.sqrt(2) * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    return samples


def noise(seconds: float, dbfs: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 10 ** (dbfs / 20), int(RATE * seconds))


def pcm(samples: np.ndarray) -> bytes:
    return bytes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def measure(samples: np.ndarray, chunk_ms: int = 50) -> float | None:
    meter = NoiseMeter()
    data = pcm(samples)
    step = RATE * 2 * chunk_ms // 1000
    for i in range(0, len(data), step):
        meter.feed(data[i : i + step])
    return meter.speech_to_background_db()


def test_speech_over_quiet_background_is_far_above_it() -> None:
    room = noise(3.0, -70.0)
    room[RATE : 2 * RATE] += tone(1.0, -20.0)
    level = measure(room)
    assert level is not None
    assert level == pytest.approx(50.0, abs=3.0)


def test_speech_in_babble_is_close_to_its_level() -> None:
    room = noise(3.0, -30.0)
    room[RATE : 2 * RATE] += tone(1.0, -20.0)
    level = measure(room)
    assert level is not None
    assert 8.0 < level < 16.0


def test_the_chunk_size_does_not_matter() -> None:
    room = noise(2.0, -50.0)
    room[8000:24000] += tone(1.0, -15.0)
    assert measure(room, 20) == measure(room, 100) == measure(room, 37)


def test_too_little_audio_has_no_level() -> None:
    assert measure(noise(0.3, -40.0)) is None
    meter = NoiseMeter()
    assert meter.speech_to_background_db() is None


def test_digital_silence_counts_as_the_lowest_level() -> None:
    room = np.zeros(3 * RATE)
    room[RATE : 2 * RATE] = tone(1.0, -20.0)
    level = measure(room)
    assert level is not None
    assert level > 70.0


def test_reset_forgets_the_last_utterance() -> None:
    meter = NoiseMeter()
    loud = noise(2.0, -30.0)
    loud[:RATE] += tone(1.0, -10.0)
    meter.feed(pcm(loud))
    assert meter.frames == 200
    meter.reset()
    assert meter.frames == 0
    assert meter.speech_to_background_db() is None


def test_levels_measured_by_speech_activity_give_the_same_result() -> None:
    # The kiosk measures frame levels once, in SpeechActivity, and hands them to the meter.
    from voice.audio.speech_activity import SpeechActivity

    room = noise(3.0, -45.0)
    room[RATE : 2 * RATE] += tone(1.0, -12.0)
    data = pcm(room)
    activity, shared = SpeechActivity(), NoiseMeter()
    for i in range(0, len(data), 1600):
        shared.add(activity.feed(data[i : i + 1600]))
    assert shared.frames == 300
    assert shared.speech_to_background_db() == measure(room)
