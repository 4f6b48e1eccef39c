"""Tests for the loudness detector behind end-of-speech (pure logic on generated PCM)."""

from __future__ import annotations

import numpy as np
import pytest

from voice.audio.format import SAMPLE_RATE
from voice.audio.speech_activity import SoundRun, SpeechActivity

RNG = np.random.default_rng(7)


def tone(seconds: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    samples: np.ndarray = np.sqrt(2) * 10 ** (dbfs / 20) * np.sin(2 * np.pi * 220 * t)
    return samples


def noise(seconds: float, dbfs: float) -> np.ndarray:
    return 10 ** (dbfs / 20) * RNG.standard_normal(int(seconds * SAMPLE_RATE))


def pcm(samples: np.ndarray) -> bytes:
    return bytes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def feed(activity: SpeechActivity, samples: np.ndarray, chunk_s: float = 0.05) -> None:
    step = int(chunk_s * SAMPLE_RATE)
    for i in range(0, len(samples), step):
        activity.feed(pcm(samples[i : i + step]))


def test_speech_runs_are_found_with_their_times() -> None:
    activity = SpeechActivity()
    quiet = noise(1.0, -70)
    feed(activity, np.concatenate([quiet, tone(0.5, -20), noise(0.7, -70), tone(0.3, -20)]))
    runs = activity.runs
    assert len(runs) == 2
    assert runs[0].start_s == pytest.approx(1.0, abs=0.011)
    assert runs[0].end_s == pytest.approx(1.5, abs=0.011)
    assert runs[1].start_s == pytest.approx(2.2, abs=0.011)
    assert runs[1].end_s == pytest.approx(2.5, abs=0.011)  # still going: ends "now"


def test_a_click_is_not_a_run() -> None:
    activity = SpeechActivity()
    feed(activity, np.concatenate([noise(1.0, -70), tone(0.02, -10), noise(0.5, -70)]))
    assert activity.runs == ()


def test_steady_background_noise_is_not_speech() -> None:
    activity = SpeechActivity()
    feed(activity, noise(4.0, -35))
    assert activity.runs == ()


def test_speech_over_background_noise_is_found() -> None:
    activity = SpeechActivity()
    feed(activity, np.concatenate([noise(2.0, -40), tone(0.4, -20) + noise(0.4, -40)]))
    assert [round(r.start_s, 1) for r in activity.runs] == [2.0]


def test_sound_far_below_the_patients_speech_does_not_count() -> None:
    activity = SpeechActivity()
    loud, far = tone(0.5, -12), tone(0.5, -40)  # 28 dB below the speech
    feed(activity, np.concatenate([noise(1.0, -70), loud, noise(0.5, -70), far]))
    assert len(activity.runs) == 1


def test_reset_forgets_runs_and_restarts_the_clock() -> None:
    activity = SpeechActivity()
    feed(activity, np.concatenate([noise(1.0, -70), tone(0.3, -20), noise(0.3, -70)]))
    assert activity.runs
    activity.reset()
    assert activity.runs == ()
    feed(activity, np.concatenate([noise(0.5, -70), tone(0.3, -20)]))
    runs: tuple[SoundRun, ...] = activity.runs
    assert len(runs) == 1
    assert runs[0].start_s == pytest.approx(0.5, abs=0.011)
    assert runs[0].end_s == pytest.approx(0.8, abs=0.011)


def test_chunks_that_split_frames_lose_no_audio() -> None:
    # 33 ms chunks: a tenth of each is short of a whole frame and must be kept for the next.
    activity = SpeechActivity()
    feed(activity, np.concatenate([noise(1.0, -70), tone(0.5, -20), noise(0.5, -70)]), 0.033)
    (run,) = activity.runs
    assert run.start_s == pytest.approx(1.0, abs=0.011)
    assert run.end_s == pytest.approx(1.5, abs=0.011)


def test_an_odd_byte_count_is_not_an_error() -> None:
    activity = SpeechActivity()
    feed(activity, noise(1.0, -70))
    activity.feed(pcm(tone(0.2, -20)) + b"\x01")
    assert activity.runs


def test_digital_silence_and_odd_chunk_sizes() -> None:
    activity = SpeechActivity()
    activity.feed(b"")
    activity.feed(b"\0\0" * 37)  # less than a frame
    feed(activity, np.zeros(SAMPLE_RATE), chunk_s=0.033)
    assert activity.runs == ()
